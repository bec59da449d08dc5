// The CLI's warm code cache (src/cli/fast/code-cache.ts, warm-mark.ts) is written by the first call that
// ran its operation's whole path, not by the first call that exited 0: a `delete --force` of a container
// that is not there (engines' cleanup) compiles almost nothing, and its cache would have stayed for good.
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeBundle, REPO, runId, tsrunc, tsruncOk, uniqueId } from '../helpers';

// A copy of dist/ without warm caches, next to this checkout's addon and init.
const pkg = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-pkg-`));
symlinkSync(join(REPO, 'build'), join(pkg, 'build'));
cpSync(join(REPO, 'dist'), join(pkg, 'dist'), { recursive: true, verbatimSymlinks: true, filter: (f) => !f.endsWith('.warm-cache') });
const cjs = join(pkg, 'dist', 'tsrunc.cjs');
const warm = (bundle: string) => existsSync(join(pkg, 'dist', 'lib', `${bundle}.cjs.warm-cache`));

afterAll(() => rmSync(pkg, { recursive: true, force: true }));

it('delete --force of nothing writes no warm cache; a create and a delete of a container do', async () => {
  const none = await tsrunc(['delete', '--force', uniqueId('none')], { cjs });
  expect(none.code, none.stderr).toBe(0);
  expect(warm('call-delete')).toBe(false);

  const bundle = makeBundle({ args: ['true'] });
  const id = uniqueId('wc');
  await tsruncOk(['create', '--bundle', bundle.dir, id], { cjs });
  expect(warm('call-create')).toBe(true);
  await tsruncOk(['delete', '--force', id], { cjs });
  expect(warm('call-delete')).toBe(true);
});
