// The rare paths that live in bundles of their own (dist/lib/start-failed.cjs, the kill --all code in
// kill.cjs) load from every bundle that reaches them: start and run after a failing poststart hook, kill
// of the init alone and of the whole container.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, containerCgroupDir, makeBundle, state, testRoot, tsrunc, tsruncOk, uniqueId, waitFor } from '../helpers';

const failingPoststart = { path: '/bin/sh', args: ['sh', '-c', 'exit 5'] };

function expectGone(id: string, pid: number) {
  expect(existsSync(join(testRoot(), id))).toBe(false);
  expect(existsSync(containerCgroupDir(id))).toBe(false);
  expect(alive(pid)).toBe(false);
}

describe('rare paths in bundles of their own', () => {
  it.each(['start', 'run'] as const)('%s: a failing poststart hook destroys the container', async (mode) => {
    const bundle = makeBundle({ args: ['sleep', '100'], mutate: (spec) => void (spec.hooks = { poststart: [failingPoststart] }) });
    const id = uniqueId('lz');
    let pid: number;
    let r;
    if (mode === 'start') {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      pid = (await state(id)).pid!;
      r = await tsrunc(['start', id]);
    } else {
      r = await tsrunc(['run', '-d', '--pid-file', join(bundle.dir, 'pid'), '--bundle', bundle.dir, id]);
      pid = Number((await import('node:fs')).readFileSync(join(bundle.dir, 'pid'), 'utf8'));
    }
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hooks.poststart[0]: exit status 5');
    await waitFor('the init to be gone', () => !alive(pid));
    expectGone(id, pid);
  });

  it('kill signals the init alone, and with --all every process of the container', async () => {
    const bundle = makeBundle({ args: ['sh', '-c', 'sleep 100 & trap "exit 0" TERM; wait'] });
    const id = uniqueId('lz');
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    const { pid } = await state(id);
    await tsruncOk(['kill', id, 'CONT']);
    expect((await state(id)).status).toBe('running');
    await tsruncOk(['kill', '--all', id, 'KILL']);
    await waitFor('the container to stop', async () => (await state(id)).status === 'stopped');
    expect(alive(pid!)).toBe(false);
    await tsruncOk(['delete', id]);
  });
});
