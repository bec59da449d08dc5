// Issue 9 #6, hooks as runc 1.1.5 and runtime.md 1.3.0 have them: a hook without `env` inherits the
// runtime's environment, and a failing poststart hook destroys the container, then the poststop hooks run
// (lifecycle step 12). Hook scripts write what they saw into a host directory.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostDir, makeBundle, state, testRoot, tsrunc, tsruncOk, uniqueId } from '../helpers';

/** A host-side hook script in `dir` running `body`; its path. */
function script(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('hook environment', () => {
  it('a hook without env inherits the runtime\'s environment; env: [] means an empty one', async () => {
    const dir = hostDir('hookenv');
    const bundle = makeBundle({
      args: ['true'],
      mutate: (spec) => {
        spec.hooks = {
          createRuntime: [{ path: script(dir, 'inherit.sh', `/usr/bin/env > ${dir}/inherit.env`) }],
          // run by tsrunc-init in the container's mount namespace (before pivot_root: host paths still there)
          createContainer: [{ path: script(dir, 'cc.sh', `/usr/bin/env > ${dir}/cc.env`) }],
          poststop: [{ path: script(dir, 'empty.sh', `/usr/bin/env > ${dir}/empty.env`), env: [] }],
        };
      },
    });
    const r = await tsrunc(['run', '--bundle', bundle.dir, uniqueId('hookenv')], { env: { TSRUNC_HOOK_PROBE: 'from-the-runtime' } });
    expect(r.code, r.stderr).toBe(0);
    const inherited = readFileSync(join(dir, 'inherit.env'), 'utf8').split('\n');
    expect(inherited).toContain('TSRUNC_HOOK_PROBE=from-the-runtime');
    expect(inherited.some((l) => l.startsWith('PATH='))).toBe(true);
    expect(readFileSync(join(dir, 'cc.env'), 'utf8').split('\n')).toContain('TSRUNC_HOOK_PROBE=from-the-runtime');
    expect(readFileSync(join(dir, 'empty.env'), 'utf8').split('\n')).not.toContain('TSRUNC_HOOK_PROBE=from-the-runtime');
  });
});

describe('a failing poststart hook (runtime.md lifecycle step 12)', () => {
  it('fails start, destroys the container and then runs the poststop hooks', async () => {
    const dir = hostDir('poststart');
    const log = join(dir, 'log');
    const bundle = makeBundle({
      args: ['sleep', '100'],
      mutate: (spec) => {
        spec.hooks = {
          poststart: [{ path: script(dir, 'bad.sh', 'echo poststart-broke >&2; exit 5') }],
          // poststop sees the container gone: its init is dead and `state` no longer knows it.
          poststop: [{ path: script(dir, 'pst.sh', `s=$(cat); pid=$(echo "$s" | sed 's/.*"pid":\\([0-9]*\\).*/\\1/'); echo "poststop $(test -d /proc/$pid && echo alive || echo dead) $s" >> ${log}`) }],
        };
      },
    });
    const id = uniqueId('pst');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const { pid } = await state(id);
    const r = await tsrunc(['start', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hooks.poststart[0]: exit status 5');
    expect(r.stderr).toContain('poststart-broke');
    expect(alive(pid!)).toBe(false);
    expect(existsSync(join(testRoot(), id))).toBe(false);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^poststop dead /);
    expect(JSON.parse(lines[0]!.replace(/^poststop \w+ /, ''))).toMatchObject({ id, status: 'stopped' });
  });

  it('run: the same, and run exits 1 naming the hook', async () => {
    const dir = hostDir('poststart');
    const bundle = makeBundle({
      args: ['sleep', '100'],
      mutate: (spec) => {
        spec.hooks = {
          poststart: [{ path: script(dir, 'bad.sh', 'exit 6') }],
          poststop: [{ path: script(dir, 'pst.sh', `echo ran >> ${dir}/poststop`) }],
        };
      },
    });
    const id = uniqueId('pst');
    const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hooks.poststart[0]: exit status 6');
    expect(readFileSync(join(dir, 'poststop'), 'utf8')).toBe('ran\n');
    expect(existsSync(join(testRoot(), id))).toBe(false);
  });
});
