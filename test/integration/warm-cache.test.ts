// The CLI's warm code cache (src/cli/fast/code-cache.ts, warm-mark.ts) is written by the first call that
// ran its operation's whole path, not by the first call that exited 0: a `delete --force` of a container
// that is not there (engines' cleanup) compiles almost nothing, and its cache would have stayed for good.
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeBundle, REPO, runId, tsrunc, tsruncOk, uniqueId } from '../helpers';

// Copies of dist/ without warm caches (nor compiled seccomp filters), next to this checkout's addon and init.
const pkgs: string[] = [];
function freshPackage() {
  const pkg = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-pkg-`));
  pkgs.push(pkg);
  symlinkSync(join(REPO, 'build'), join(pkg, 'build'));
  const copied = (f: string) => !f.endsWith('.warm-cache') && !f.includes('/seccomp-cache');
  cpSync(join(REPO, 'dist'), join(pkg, 'dist'), { recursive: true, verbatimSymlinks: true, filter: copied });
  return {
    cjs: join(pkg, 'dist', 'tsrunc.cjs'),
    warm: (bundle: string) => existsSync(join(pkg, 'dist', 'lib', `${bundle}.cjs.warm-cache`)),
  };
}

afterAll(() => pkgs.forEach((pkg) => rmSync(pkg, { recursive: true, force: true })));

it('delete --force of nothing writes no warm cache; a create and a delete of a container do', async () => {
  const { cjs, warm } = freshPackage();
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

it('a create that compiled its seccomp profile writes no warm cache; the next, which finds the filter, does', async () => {
  // (the compiler in the warm cache would cost every later create its deserialisation)
  const { cjs, warm } = freshPackage();
  const bundle = makeBundle({
    args: ['true'],
    mutate: (spec) => {
      spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['acct'], action: 'SCMP_ACT_ERRNO' }] };
    },
  });
  for (const expected of [false, true]) {
    const id = uniqueId('wcs');
    await tsruncOk(['create', '--bundle', bundle.dir, id], { cjs });
    await tsruncOk(['delete', '--force', id], { cjs });
    expect(warm('call-create')).toBe(expected);
  }
});
