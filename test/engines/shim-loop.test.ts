// One shim serves many containers, so nothing one container waits for may stall the others: here a
// container's state lock is held by another process (as a tsrunc CLI command holds it, flock on its
// state directory) while containerd deletes that container through our shim. The delete waits; the
// shim meanwhile keeps copying another container's stdin, answers State, and creates, starts and
// deletes a third container of the same sandbox (so of the same shim).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, EngineEnv, installed, REPO, uniqueId, showRun, type RunResult } from './harness';
import * as ctrTasks from './ctr-tasks';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const haveContainerd = installed('containerd') && installed('ctr') && installed('flock');

describe.skipIf(!haveContainerd)('our shim keeps serving while one container waits for its lock', () => {
  let env: EngineEnv;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await EngineEnv.start();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await env?.stop();
  });

  const show = (r: RunResult): string => showRun(r, env.daemonLog('containerd'));
  const stateDir = (id: string): string => join(env.dir, 'run', 'containerd', 'tsrunc', env.ns, id);

  function ppidOf(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }

  /** flock(1) on the state directory: holds tsrunc's lock until its stdin closes. */
  async function holdLock(dir: string): Promise<ChildProcess> {
    const h = spawn('flock', ['-x', dir, 'sh', '-c', 'echo held; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'], env: cleanEnv() });
    children.push(h);
    await new Promise<void>((resolve, reject) => {
      h.stdout!.once('data', () => resolve());
      h.once('exit', (code) => reject(new Error(`flock exited ${code}`)));
    });
    return h;
  }

  /** An exec'd `read`/`echo` loop whose stdin the shim copies; `roundTrip` sends a line and times the echo. */
  function echoExec(id: string) {
    const [cmd, args] = env.ctrArgv(['task', 'exec', '--exec-id', 'echo', id, 'sh', '-c', 'while read l; do echo "got:$l"; done']);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv() });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return {
      child,
      async roundTrip(line: string, ms: number): Promise<number> {
        const t0 = Date.now();
        child.stdin!.write(`${line}\n`);
        while (!out.includes(`got:${line}\n`)) {
          if (Date.now() - t0 > ms) throw new Error(`no echo of ${line} after ${ms} ms; output: ${out}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        return Date.now() - t0;
      },
    };
  }

  test('a delete waiting for a lock held elsewhere: another container\'s I/O, State and a third container go on', async () => {
    const pod = uniqueId('pod');
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `${pod}-${x}`) as [string, string, string];
    const runArgs = (...extra: string[]) => ['run', '--runtime', SHIM, '--cpu-shares', '0', '--annotation', `io.kubernetes.cri.sandbox-id=${pod}`, ...extra];
    let holder: ChildProcess | undefined;
    try {
      for (const id of [a, b]) {
        const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, show(r)).toBe(0);
        await ctrTasks.waitStatus(env, id, 'RUNNING');
      }
      const shim = ppidOf((await ctrTasks.taskStatus(env, a))!.pid);
      expect(ppidOf((await ctrTasks.taskStatus(env, b))!.pid)).toBe(shim);

      const echo = echoExec(b);
      await echo.roundTrip('warm-up', 20_000);

      // A stops; its delete needs its state lock, which another process holds.
      expect((await env.ctr(['task', 'kill', '-s', 'SIGKILL', a])).code).toBe(0);
      await ctrTasks.waitStatus(env, a, 'STOPPED');
      holder = await holdLock(stateDir(a));
      let deleted: RunResult | undefined;
      const deleting = env.ctr(['task', 'delete', a], { timeout: 120_000 }).then((r) => (deleted = r));
      // Let the Delete reach the shim and wait on the lock.
      await new Promise((r) => setTimeout(r, 1000));

      const echoMs: number[] = [];
      for (let i = 0; i < 5; i++) echoMs.push(await echo.roundTrip(`line${i}`, 5000));
      const t0 = Date.now();
      expect((await ctrTasks.taskStatus(env, b))?.status).toBe('RUNNING');
      const stateMs = Date.now() - t0;
      const run = await env.ctr([...runArgs('--rm'), env.image.ctrRef, c, 'echo', 'third'], { timeout: 30_000 });
      expect(run.stdout, show(run)).toBe('third\n');
      expect(run.code).toBe(0);
      console.log(`while A's lock was held: stdin echo ${echoMs.join('/')} ms, ctr task ls ${stateMs} ms`);
      // The delete of A was really waiting all along, and is done once the lock is let go.
      expect(deleted).toBeUndefined();
      expect((await ctrTasks.taskStatus(env, a))?.status).toBe('STOPPED');
      holder.stdin!.end();
      const d = await deleting;
      expect(d.code, show(d)).toBe(0);
      expect(await ctrTasks.taskStatus(env, a)).toBeUndefined();
      expect(spawnSync('test', ['-e', stateDir(a)]).status).not.toBe(0);
      echo.child.stdin!.end();
    } finally {
      holder?.stdin?.end();
      for (const id of [a, b, c]) await ctrTasks.removeAll(env, id);
    }
  }, 180_000);
});
