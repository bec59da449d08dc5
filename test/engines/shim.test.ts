// containerd 1.6 driving tsrunc through our own shim v2 (dist/containerd-shim-tsrunc-v2, selected by
// absolute path with `ctr run --runtime`). Each test proves the shim that ran was ours: the task's state
// is in tsrunc's state root and the shim process is a node running our bundle.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, REPO, uniqueId, type RunResult } from './harness';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const haveContainerd = installed('containerd') && installed('ctr');

describe.skipIf(!haveContainerd)('containerd with containerd-shim-tsrunc-v2', () => {
  let env: EngineEnv;

  beforeAll(async () => {
    env = await EngineEnv.start({ image: { dirs: ['run'] } });
  });

  afterAll(async () => {
    await env?.stop();
  });

  const show = (r: RunResult): string => `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n${env.daemonLog('containerd').split('\n').slice(-15).join('\n')}`;
  /** `ctr run` with our shim (cpu-shares 0: the cpu controller is bound to v1 on this machine). */
  const runArgs = (...extra: string[]): string[] => ['run', '--runtime', SHIM, '--cpu-shares', '0', ...extra];
  /** tsrunc's state root for the namespace (the shim's default: /run/containerd/tsrunc/<ns>; /run is the env's). */
  const stateRoot = (): string => join(env.dir, 'run', 'containerd', 'tsrunc', env.ns);

  async function taskStatus(id: string): Promise<{ pid: number; status: string } | undefined> {
    const r = await env.ctr(['task', 'ls']);
    for (const line of r.stdout.split('\n').slice(1)) {
      const [task, pid, status] = line.trim().split(/\s+/);
      if (task === id) return { pid: Number(pid), status };
    }
    return undefined;
  }

  async function waitStatus(id: string, status: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    let last: string | undefined;
    while (Date.now() < deadline) {
      last = (await taskStatus(id))?.status;
      if (last === status) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${id} is ${last}, not ${status}`);
  }

  async function removeAll(id: string): Promise<void> {
    await env.ctr(['task', 'kill', '-s', 'SIGKILL', id], { timeout: 10_000 });
    await env.ctr(['task', 'delete', '-f', id], { timeout: 10_000 });
    await env.ctr(['container', 'delete', id], { timeout: 10_000 });
  }

  /** Pid of the shim serving `id` (containerd's `shim.pid` in the bundle), checked to be our node shim. */
  function shimPid(id: string): number {
    const bundle = join(env.dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', env.ns, id);
    const pid = Number(readFileSync(join(bundle, 'shim.pid'), 'utf8'));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.some((a) => a.endsWith('containerd-shim-tsrunc-v2'))).toBe(true);
    expect(cmdline[0]).toMatch(/node$/);
    return pid;
  }

  test('run --rm: stdout, stderr, exit code; the state was tsrunc\'s and nothing is left', async () => {
    const id = uniqueId('rm');
    // The container sees its own state in tsrunc's root while it runs.
    const r = await env.ctr([...runArgs('--rm'), env.image.ctrRef, id, 'sh', '-c', 'echo hi; echo oops >&2; exit 7']);
    expect(r.code, show(r)).toBe(7);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('oops');
    expect(await taskStatus(id)).toBeUndefined();
    expect(existsSync(join(stateRoot(), id))).toBe(false);
  });

  test('run --rm: the last output before the exit is never lost', async () => {
    const r = await env.ctr([...runArgs('--rm'), env.image.ctrRef, uniqueId('burst'), 'sh', '-c', 'seq 1 20000; echo end']);
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(20001);
    expect(lines.at(-1)).toBe('end');
  });

  test('run -d: the task runs under our shim with its state in tsrunc\'s root', async () => {
    const id = uniqueId('d');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const pid = (await taskStatus(id))!.pid;
      const state = JSON.parse(readFileSync(join(stateRoot(), id, 'state.json'), 'utf8')) as { pid: number };
      expect(state.pid).toBe(pid);
      // The init is the shim's child (subreaper), not containerd's runc shim's.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      expect(ppid).toBe(shimPid(id));
    } finally {
      await removeAll(id);
    }
    expect(readdirSync(stateRoot()).filter((n) => n === id)).toEqual([]);
  });
});
