// A grouped shim whose last container is being deleted shuts down; a `start` for a new container of the
// same group at that moment must not hand containerd the address of the shim that is going away.
// Each round: X is the group's only container; its delete (then containerd's Shutdown) and `ctr run`
// of Y in the same group are started together, at varying offsets. Every run of Y must succeed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, REPO, uniqueId, showRun, type RunResult } from './harness';
import * as ctrTasks from './ctr-tasks';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const haveContainerd = installed('containerd') && installed('ctr');
const ROUNDS = Number(process.env.SHIM_RACE_ROUNDS ?? 12);

describe.skipIf(!haveContainerd)('start racing the shutdown of its group\'s shim', () => {
  let env: EngineEnv;

  beforeAll(async () => {
    env = await EngineEnv.start();
  });

  afterAll(async () => {
    await env?.stop();
  });

  const show = (r: RunResult): string => showRun(r, env.daemonLog('containerd'));

  test(`${ROUNDS} rounds: run of a new container while the group's last one is deleted`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const pod = uniqueId('race');
      const runArgs = (...extra: string[]) => ['run', '--runtime', SHIM, '--cpu-shares', '0', '--annotation', `io.kubernetes.cri.sandbox-id=${pod}`, ...extra];
      const x = `${pod}-x`;
      const y = `${pod}-y`;
      try {
        const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, x, 'sleep', '1000']);
        expect(r.code, show(r)).toBe(0);
        await ctrTasks.waitStatus(env, x, 'RUNNING');
        expect((await env.ctr(['task', 'kill', '-s', 'SIGKILL', x])).code).toBe(0);
        await ctrTasks.waitStatus(env, x, 'STOPPED');
        // Y's start (ctr and containerd work first, then the shim's `start`) against X's delete + Shutdown.
        const offset = (i % 6) * 40;
        const runY = env.ctr([...runArgs('--rm'), env.image.ctrRef, y, 'echo', 'y-ran'], { timeout: 60_000 });
        await new Promise((res) => setTimeout(res, offset));
        const del = await env.ctr(['task', 'delete', x]);
        expect(del.code, show(del)).toBe(0);
        const ry = await runY;
        if (ry.code !== 0 || ry.stdout !== 'y-ran\n') failures.push(`round ${i} (offset ${offset} ms): ${show(ry)}`);
      } finally {
        for (const id of [x, y]) await ctrTasks.removeAll(env, id);
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 600_000);
});
