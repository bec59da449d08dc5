// `ctr run --runtime io.containerd.tsrunc.v2`: containerd 1.6 turns the runtime name into the binary
// name containerd-shim-tsrunc-v2 and finds it on its own PATH, as an installed shim is found. Here the
// PATH of the containerd the test starts has dist/ in front (the only place such a binary exists).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, REPO, uniqueId, showRun, type RunResult } from './harness';
import * as ctrTasks from './ctr-tasks';

const BIN = 'containerd-shim-tsrunc-v2';
const DIST = join(REPO, 'dist');
const haveContainerd = installed('containerd') && installed('ctr');

describe.skipIf(!haveContainerd)('containerd finds containerd-shim-tsrunc-v2 by runtime name on its PATH', () => {
  let env: EngineEnv;
  const savedPath = process.env.PATH;

  beforeAll(async () => {
    // The daemons inherit this process's environment (harness cleanEnv): containerd gets dist/ first.
    process.env.PATH = `${DIST}${delimiter}${savedPath}`;
    env = await EngineEnv.start();
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await env?.stop();
  });

  const show = (r: RunResult): string => showRun(r, env.daemonLog('containerd'));
  const runArgs = (...extra: string[]) => ['run', '--runtime', 'io.containerd.tsrunc.v2', '--cpu-shares', '0', ...extra];
  const stateRoot = (): string => join(env.dir, 'run', 'containerd', 'tsrunc', env.ns);

  function ppidOf(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }

  /** containerd's pid: the process started with this env's config. */
  function containerdPid(): number {
    const config = join(env.dir, 'containerd', 'config.toml');
    for (const n of readdirSync('/proc')) {
      if (!/^\d+$/.test(n)) continue;
      try {
        const argv = readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
        if (argv[0]?.endsWith('containerd') && argv.includes(config)) return Number(n);
      } catch {
        // gone
      }
    }
    throw new Error('containerd not found');
  }

  test('containerd\'s PATH has dist/ first; the binary is nowhere else on it, nor next to containerd', () => {
    const environ = readFileSync(`/proc/${containerdPid()}/environ`, 'utf8').split('\0');
    const path = environ.find((v) => v.startsWith('PATH='))!.slice(5).split(delimiter);
    expect(path[0]).toBe(DIST);
    expect(existsSync(join(DIST, BIN))).toBe(true);
    for (const dir of path.slice(1)) if (dir) expect(existsSync(join(dir, BIN)), dir).toBe(false);
    expect(existsSync(join(dirname(readlinkSync(`/proc/${containerdPid()}/exe`)), BIN))).toBe(false);
  });

  test('run --rm by runtime name: output and exit code come back', async () => {
    const id = uniqueId('name');
    const r = await env.ctr([...runArgs('--rm'), env.image.ctrRef, id, 'sh', '-c', 'echo hi; exit 3']);
    expect(r.stdout, show(r)).toBe('hi\n');
    expect(r.code, show(r)).toBe(3);
    expect(await ctrTasks.taskStatus(env, id)).toBeUndefined();
  });

  test('run -d by name: the task\'s parent is our node shim, found on the PATH; a second container of the sandbox shares it', async () => {
    const pod = uniqueId('pod');
    const ids = [`${pod}-a`, `${pod}-b`];
    try {
      for (const id of ids) {
        const r = await env.ctr([...runArgs('-d', '--annotation', `io.kubernetes.cri.sandbox-id=${pod}`), env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, show(r)).toBe(0);
        await ctrTasks.waitStatus(env, id, 'RUNNING');
      }
      const pids = await Promise.all(ids.map(async (id) => (await ctrTasks.taskStatus(env, id))!.pid));
      const shim = ppidOf(pids[0]!);
      expect(ppidOf(pids[1]!)).toBe(shim);
      const argv = readFileSync(`/proc/${shim}/cmdline`, 'utf8').split('\0');
      expect(argv[0]).toMatch(/node$/);
      expect(argv.some((a) => a.startsWith(`${DIST}/`)), argv.join(' ')).toBe(true);
      for (const [i, id] of ids.entries()) {
        const state = JSON.parse(readFileSync(join(stateRoot(), id, 'state.json'), 'utf8')) as { pid: number };
        expect(state.pid).toBe(pids[i]);
      }
      const e = await env.ctr(['task', 'exec', '--exec-id', 'x', ids[1]!, 'echo', 'exec-ok']);
      expect(e.stdout, show(e)).toBe('exec-ok\n');
    } finally {
      for (const id of ids) await ctrTasks.removeAll(env, id);
    }
    for (const id of ids) expect(existsSync(join(stateRoot(), id))).toBe(false);
  });
});
