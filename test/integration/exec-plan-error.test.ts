// exec builds its plan while the helper is already starting (src/runtime/ops/exec.ts): a process the plan
// refuses must still fail with one line naming the field, and leave no helper behind in the container's
// cgroup, attached or detached; a long-lived caller (the shim) is left without a child, not even a zombie.
import { openSync, closeSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exec } from '../../src/runtime/ops/exec';
import { cgroupProcs, containerCgroupDir, makeBundle, state, testRoot, tsrunc, tsruncOk, uniqueId } from '../helpers';

let id = '';
let initPid = 0;
let bundle: ReturnType<typeof makeBundle>;

beforeAll(async () => {
  bundle = makeBundle({ args: ['sleep', '100000'] });
  id = uniqueId('explerr');
  await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
  initPid = (await state(id)).pid!;
});

afterAll(async () => {
  if (id) await tsrunc(['delete', '--force', id]);
  bundle?.remove();
});

for (const detach of [false, true]) {
  it(`a process the plan refuses fails naming the field, with nothing left in the cgroup${detach ? ' (detached)' : ''}`, async () => {
    const file = join(bundle.dir, `bad-process-${detach}.json`);
    writeFileSync(file, JSON.stringify({ ...bundle.spec.process, args: ['true'], scheduler: { policy: 'SCHED_NO_SUCH' } }));
    const r = await tsrunc(['exec', ...(detach ? ['-d'] : []), '--process', file, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/process\.scheduler\.policy/);
    // The helper was killed and reaped before tsrunc exited: only the init is in the container's cgroup.
    expect(cgroupProcs(containerCgroupDir(id))).toEqual([initPid]);
    // And the container still takes execs.
    expect((await tsruncOk(['exec', id, 'echo', 'ok'])).trim()).toBe('ok');
  });
}

/** Our children (any state, zombies included). */
function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) => readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

it('in-process (as the shim calls it), a refused plan leaves the caller no child, not even a zombie', async () => {
  const devNull = openSync('/dev/null', 'r+');
  const before = children();
  try {
    const proc = { ...bundle.spec.process!, args: ['true'], scheduler: { policy: 'SCHED_NO_SUCH' } };
    await expect(exec({ root: testRoot(), id, process: proc as never, detach: true, stdio: [devNull, devNull, devNull] })).rejects.toThrow(/process\.scheduler\.policy/);
    expect(children()).toEqual(before);
    expect(cgroupProcs(containerCgroupDir(id))).toEqual([initPid]);
  } finally {
    closeSync(devNull);
  }
});
