// containerd 1.6 driving tsrunc through our own shim v2 (dist/containerd-shim-tsrunc-v2, selected by
// absolute path with `ctr run --runtime`). Each test proves the shim that ran was ours: the task's state
// is in tsrunc's state root and the shim process is a node running our bundle.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { alive, EngineEnv, installed, ourShimProcesses, REPO, uniqueId, showRun, type RunResult } from './harness';
import * as ctrTasks from './ctr-tasks';

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

  const show = (r: RunResult): string => showRun(r, env.daemonLog('containerd'));
  /** `ctr run` with our shim (cpu-shares 0: the cpu controller is bound to v1 on this machine). */
  const runArgs = (...extra: string[]): string[] => ['run', '--runtime', SHIM, '--cpu-shares', '0', ...extra];
  /** tsrunc's state root for the namespace (the shim's default: /run/containerd/tsrunc/<ns>; /run is the env's). */
  const stateRoot = (): string => join(env.dir, 'run', 'containerd', 'tsrunc', env.ns);

  const taskStatus = (id: string) => ctrTasks.taskStatus(env, id);
  const waitStatus = (id: string, status: string, ms?: number) => ctrTasks.waitStatus(env, id, status, ms);
  const removeAll = (id: string) => ctrTasks.removeAll(env, id);

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

  test('run --rm of a missing program fails and leaves nothing', async () => {
    const id = uniqueId('enoent');
    const r = await env.ctr([...runArgs('--rm'), env.image.ctrRef, id, '/no/such/program']);
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stderr).toMatch(/no such file|not found/i);
    await env.ctr(['container', 'delete', id]);
    expect(await taskStatus(id)).toBeUndefined();
    expect(existsSync(join(stateRoot(), id))).toBe(false);
    expect(mountsUnder(bundleOf(id))).toEqual([]);
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

  /** The parent of `pid` (our shim for a container init or exec'd process: it is the subreaper). */
  function ppidOf(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }

  /** The cgroup directory tsrunc recorded for the container (a path inside the engines' mount namespace). */
  function cgroupDir(id: string, root = stateRoot()): string {
    return (JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { cgroupDir: string }).cgroupDir;
  }

  /** Ids of the device programs attached to a cgroup (`dir` inside the namespace, read there). */
  async function deviceProgramIds(dir: string): Promise<number[]> {
    const script = `const fs = require('node:fs'); const { native } = require(${JSON.stringify(join(REPO, 'dist/lib/native.cjs'))});
      const fd = fs.openSync(${JSON.stringify(dir)}, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      process.stdout.write(JSON.stringify(native().bpfProgQuery(fd).ids));`;
    return JSON.parse(await inNs(process.execPath, '-e', script)) as number[];
  }

  async function inNs(cmd: string, ...args: string[]): Promise<string> {
    const r = await env.exec(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${show(r)}`);
    return r.stdout;
  }

  /** ctr with a terminal on its stdin (script(1)), as -t needs. */
  function underPty(args: string[]): Promise<RunResult> {
    const ctr = ['ctr', '-a', env.containerdSock, '-n', env.ns, ...args];
    return env.exec('script', ['-qec', ctr.join(' '), '/dev/null']);
  }

  test('run --rm -t: the process has a terminal, its output and exit code come back', async () => {
    const r = await underPty([...runArgs('--rm', '-t'), env.image.ctrRef, uniqueId('tty'), 'sh', '-c', 'tty; stty size; exit 3']);
    expect(r.stdout, show(r)).toMatch(/\/dev\/pts\/\d+/);
    expect(r.code, show(r)).toBe(3);
  });

  test('run -d, task exec (plain and -t), ps shows the exec\'d process, stdin reaches exec', async () => {
    const id = uniqueId('exec');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const e = await env.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo in-exec; echo err >&2; exit 5']);
      expect(e.stdout, show(e)).toBe('in-exec\n');
      expect(e.stderr).toContain('err');
      expect(e.code, show(e)).toBe(5);
      const t = await underPty(['task', 'exec', '-t', '--exec-id', 'e2', id, 'sh', '-c', 'tty; exit 4']);
      expect(t.stdout, show(t)).toMatch(/\/dev\/pts\/\d+/);
      expect(t.code, show(t)).toBe(4);
      const i = await env.ctr(['task', 'exec', '--exec-id', 'e3', id, 'sh', '-c', 'read x; echo "got $x"'], { input: 'hello\n' });
      expect(i.stdout, show(i)).toBe('got hello\n');
      // A long-running exec appears in ps, with its exec id.
      const bg = env.ctr(['task', 'exec', '--exec-id', 'e4', id, 'sleep', '30']);
      const init = (await taskStatus(id))!.pid;
      let ps = '';
      for (let n = 0; n < 100 && !/e4/.test(ps); n++) ps = (await env.ctr(['task', 'ps', id])).stdout;
      const rows = ps.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
      expect(rows.map((c) => Number(c[0]))).toContain(init);
      const e4 = rows.find((c) => c[1]?.includes('e4'));
      expect(e4, ps).toBeDefined();
      expect(ppidOf(Number(e4![0]))).toBe(ppidOf(init));
      await env.ctr(['task', 'kill', '-s', 'SIGKILL', '--exec-id', 'e4', id]);
      expect((await bg).code).toBe(137);
    } finally {
      await removeAll(id);
    }
  });

  test('stdin: a piped input reaches the process, and its end is the process\'s EOF', async () => {
    const r = await env.ctr([...runArgs('--rm'), env.image.ctrRef, uniqueId('stdin'), 'sh', '-c', 'cat; echo done'], { input: 'a\nb\n' });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('a\nb\ndone\n');
  });

  test('file:// and binary:// log URIs receive the output', async () => {
    const logFile = join(env.dir, 'logs', 'file-uri.log');
    const binOut = join(env.dir, 'logs', 'binary-uri.log');
    const logger = join(env.dir, 'bin', 'test-logger');
    // The logger protocol: stdout on fd 3, stderr on fd 4, close fd 5 once ready. No PATH in its env.
    writeFileSync(logger, `#!/bin/sh\nexec 5>&-\n/bin/cat <&3 >>${binOut}.out &\n/bin/cat <&4 >>${binOut}.err\nwait\necho "$CONTAINER_ID $CONTAINER_NAMESPACE" >${binOut}.env\n`, { mode: 0o755 });
    const ids = [uniqueId('filelog'), uniqueId('binlog')];
    const uris = [`file://${logFile}`, `binary://${logger}`];
    try {
      for (let i = 0; i < 2; i++) {
        const r = await env.ctr([...runArgs('-d', '--log-uri', uris[i]!), env.image.ctrRef, ids[i]!, 'sh', '-c', 'echo to-out; echo to-err >&2']);
        expect(r.code, show(r)).toBe(0);
        await waitStatus(ids[i]!, 'STOPPED');
      }
      expect(readFileSync(logFile, 'utf8')).toMatch(/to-out\n[^]*to-err\n|to-err\n[^]*to-out\n/);
      await env.ctr(['task', 'delete', ids[1]!]); // the logger ends once the shim closes its ends
      const deadline = Date.now() + 10_000;
      while (!existsSync(`${binOut}.env`) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(readFileSync(`${binOut}.out`, 'utf8')).toBe('to-out\n');
      expect(readFileSync(`${binOut}.err`, 'utf8')).toBe('to-err\n');
      expect(readFileSync(`${binOut}.env`, 'utf8')).toBe(`${ids[1]} ${env.ns}\n`);
    } finally {
      for (const id of ids) await removeAll(id);
    }
  });

  test('errors carry containerd\'s codes: exec id taken, unknown exec, checkpoint not implemented', async () => {
    const id = uniqueId('errs');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const bg = env.ctr(['task', 'exec', '--exec-id', 'same', id, 'sleep', '30']);
      // Only once the first exec runs is its id taken (a second one started earlier could take it instead).
      let ps = '';
      for (let n = 0; n < 200 && !/\bsame\b/.test(ps); n++) ps = (await env.ctr(['task', 'ps', id])).stdout;
      expect(ps).toMatch(/\bsame\b/);
      const dup = await env.ctr(['task', 'exec', '--exec-id', 'same', id, 'true']);
      expect(dup.code).not.toBe(0);
      expect(dup.stderr).toMatch(/already exists/);
      const k = await env.ctr(['task', 'kill', '--exec-id', 'nope', id]);
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/not found/);
      const c = await env.ctr(['task', 'checkpoint', id]);
      expect(c.code).not.toBe(0);
      expect(c.stderr).toMatch(/not implemented/);
      await env.ctr(['task', 'kill', '-s', 'SIGKILL', '--exec-id', 'same', id]);
      await bg;
    } finally {
      await removeAll(id);
    }
  });

  test('pause and resume: the cgroup is really frozen and thawed', async () => {
    const id = uniqueId('pause');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const events = join(cgroupDir(id), 'cgroup.events');
      expect(await inNs('cat', events)).toMatch(/^frozen 0$/m);
      const p = await env.ctr(['task', 'pause', id]);
      expect(p.code, show(p)).toBe(0);
      expect((await taskStatus(id))?.status).toBe('PAUSED');
      expect(await inNs('cat', events)).toMatch(/^frozen 1$/m);
      const q = await env.ctr(['task', 'resume', id]);
      expect(q.code, show(q)).toBe(0);
      expect((await taskStatus(id))?.status).toBe('RUNNING');
      expect(await inNs('cat', events)).toMatch(/^frozen 0$/m);
    } finally {
      await removeAll(id);
    }
  });

  test('metrics: cgroup v2 Metrics read from the container\'s cgroup', async () => {
    const id = uniqueId('metrics');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const m = await env.ctr(['task', 'metrics', '--format', 'json', id]);
      expect(m.code, show(m)).toBe(0);
      const metrics = JSON.parse(m.stdout) as { cpu?: { usage_usec?: number } };
      const usec = Number(/^usage_usec (\d+)$/m.exec(await inNs('cat', join(cgroupDir(id), 'cpu.stat')))![1]);
      expect(metrics.cpu?.usage_usec, m.stdout).toBeGreaterThan(0);
      expect(metrics.cpu!.usage_usec!).toBeLessThanOrEqual(usec);
    } finally {
      await removeAll(id);
    }
  });

  test('kill with a signal the container traps: Wait reports its exit code', async () => {
    const id = uniqueId('kill');
    // ctr run (foreground) waits for the exit through the shim's Wait.
    const script = 'trap "echo got-usr1; exit 42" USR1; echo ready; while true; do sleep 0.1; done';
    const run = env.ctr([...runArgs('--rm'), env.image.ctrRef, id, 'sh', '-c', script]);
    try {
      await waitStatus(id, 'RUNNING');
      // The trap is installed once the script has printed "ready": poll the process's signal mask.
      const pid = (await taskStatus(id))!.pid;
      const caught = () => BigInt('0x' + (/^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0'));
      for (let n = 0; n < 200 && !(caught() & (1n << 9n)); n++) await new Promise((res) => setTimeout(res, 25));
      const k = await env.ctr(['task', 'kill', '-s', 'SIGUSR1', id]);
      expect(k.code, show(k)).toBe(0);
      const r = await run;
      expect(r.stdout, show(r)).toContain('got-usr1');
      expect(r.code, show(r)).toBe(42);
    } finally {
      await run;
      await removeAll(id);
    }
  });

  async function waitGone(pid: number, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (alive(pid)) {
      if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Mount points inside the engines' namespace under `prefix`. */
  function mountsUnder(prefix: string): string[] {
    return readFileSync(`/proc/${env.holderPid}/mountinfo`, 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(prefix));
  }

  const bundleOf = (id: string): string => join(env.dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', env.ns, id);

  /** Our shim processes (node running the shim bundle) in the engines' namespace. */
  const shimProcesses = () => ourShimProcesses(env.ns);

  test('containerd SIGKILL and restart: the task keeps running, then exec, metrics, kill and delete work', async () => {
    const id = uniqueId('restart');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const before = (await taskStatus(id))!.pid;
      const shim = shimPid(id);
      await env.killContainerd();
      await env.startContainerd();
      expect(await taskStatus(id)).toEqual({ pid: before, status: 'RUNNING' });
      expect(shimPid(id)).toBe(shim);
      const e = await env.ctr(['task', 'exec', '--exec-id', 'after', id, 'sh', '-c', 'echo still-here']);
      expect(e.stdout, show(e)).toBe('still-here\n');
      const m = await env.ctr(['task', 'metrics', '--format', 'json', id]);
      expect(m.code, show(m)).toBe(0);
      const k = await env.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      expect(k.code, show(k)).toBe(0);
      await waitStatus(id, 'STOPPED');
      const d = await env.ctr(['task', 'delete', id]);
      expect(d.code, show(d)).toBe(0);
      await waitGone(shim);
    } finally {
      await removeAll(id);
    }
  });

  test('shim SIGKILL: containerd runs `delete`, which leaves no process, state, cgroup or mount', async () => {
    const id = uniqueId('shimkill');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const init = (await taskStatus(id))!.pid;
      const cg = cgroupDir(id);
      expect(mountsUnder(join(bundleOf(id), 'rootfs'))).toHaveLength(1);
      process.kill(shimPid(id), 'SIGKILL');
      await waitGone(init);
      const deadline = Date.now() + 10_000;
      while ((await taskStatus(id)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(await taskStatus(id)).toBeUndefined();
      expect(existsSync(join(stateRoot(), id))).toBe(false);
      expect((await env.exec('test', ['-e', cg])).code).not.toBe(0);
      expect(mountsUnder(bundleOf(id))).toEqual([]);
    } finally {
      await removeAll(id);
    }
  });

  test('20 containers of one sandbox share one shim, which exits after the last is deleted', async () => {
    const pod = uniqueId('pod');
    const ids = Array.from({ length: 20 }, (_, i) => `${pod}-c${i}`);
    try {
      for (let i = 0; i < ids.length; i += 5) {
        const batch = await Promise.all(ids.slice(i, i + 5).map((id) => env.ctr([...runArgs('-d', '--annotation', `io.kubernetes.cri.sandbox-id=${pod}`), env.image.ctrRef, id, 'sleep', '1000'])));
        for (const r of batch) expect(r.code, show(r)).toBe(0);
      }
      for (const id of ids) await waitStatus(id, 'RUNNING');
      const shims = new Set<number>();
      for (const id of ids) shims.add(ppidOf((await taskStatus(id))!.pid));
      expect(shims.size).toBe(1);
      const shim = [...shims][0]!;
      expect(shimProcesses()).toEqual([shim]);
      for (const id of ids) expect(shimPid(id)).toBe(shim);
      const rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${shim}/status`, 'utf8'))![1]);
      console.log(`one shim for 20 containers: RSS ${(rss / 1024).toFixed(1)} MiB`);
      // Each still answers on its own: exec into the last one.
      const e = await env.ctr(['task', 'exec', '--exec-id', 'x', ids[19]!, 'echo', 'ok']);
      expect(e.stdout, show(e)).toBe('ok\n');
      for (let i = 0; i < 19; i += 5) await Promise.all(ids.slice(i, Math.min(i + 5, 19)).map((id) => removeAll(id)));
      expect(alive(shim)).toBe(true);
      await removeAll(ids[19]!);
      await waitGone(shim);
      // The shim's log reached containerd to the end, though the bundle it started in is long gone.
      // (Its exit is logged while the other 19 bundles, the first included, are gone.)
      expect(env.daemonLog('containerd')).toContain(`${ids[19]} exited with 137`);
    } finally {
      for (let i = 0; i < ids.length; i += 5) await Promise.all(ids.slice(i, i + 5).map((id) => removeAll(id)));
    }
  }, 180_000);

  test('the tsrunc CLI sees the shim\'s containers in its state root, and delete --force cleans one', async () => {
    const id = uniqueId('cli');
    try {
      const r = await env.ctr([...runArgs('-d'), env.image.ctrRef, id, 'sleep', '1000']);
      expect(r.code, show(r)).toBe(0);
      await waitStatus(id, 'RUNNING');
      const pid = (await taskStatus(id))!.pid;
      const list = await env.exec(env.tsruncBin, ['--root', stateRoot(), 'list', '--format', 'json']);
      const rows = JSON.parse(list.stdout) as Array<{ id: string; pid: number; status: string }>;
      expect(rows.find((c) => c.id === id)).toMatchObject({ pid, status: 'running' });
      const d = await env.exec(env.tsruncBin, ['--root', stateRoot(), 'delete', '--force', id]);
      expect(d.code, show(d)).toBe(0);
      // The shim saw its init die (TaskExit): containerd reports the task stopped, and deletes it.
      await waitStatus(id, 'STOPPED');
      const t = await env.ctr(['task', 'delete', id]);
      expect(t.code, show(t)).toBe(0);
      expect(existsSync(join(stateRoot(), id))).toBe(false);
    } finally {
      await removeAll(id);
    }
  });

  test('events reach containerd in order: create, start, exit, delete', async () => {
    const id = uniqueId('events');
    const { spawn } = await import('node:child_process');
    const [cmd, args] = env.ctrArgv(['events']);
    const watcher = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    watcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((res) => setTimeout(res, 500)); // subscribed
      const r = await env.ctr([...runArgs('--rm'), env.image.ctrRef, id, 'true']);
      expect(r.code, show(r)).toBe(0);
      const deadline = Date.now() + 10_000;
      while (!out.includes('/tasks/delete') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    } finally {
      watcher.kill('SIGKILL');
    }
    const topics = out.split('\n').filter((l) => l.includes(id) && l.includes('/tasks/')).map((l) => /\/tasks\/[a-z-]+/.exec(l)![0]);
    expect(topics, out).toEqual(['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
  });

  test('two namespaces, one shim per namespace (a --runtime-config-path config), separate state roots', async () => {
    const cfg = join(env.dir, 'tsrunc-shim.json');
    writeFileSync(cfg, JSON.stringify({ group: 'namespace' }));
    const nsB = `${env.ns}-b`;
    const ctrB = (args: string[]) => env.exec('ctr', ['-a', env.containerdSock, '-n', nsB, ...args]);
    const a = [uniqueId('nsa'), uniqueId('nsa')];
    const b = [uniqueId('nsb'), uniqueId('nsb')];
    try {
      for (const id of a) expect((await env.ctr([...runArgs('-d', '--runtime-config-path', cfg), env.image.ctrRef, id, 'sleep', '1000'])).code).toBe(0);
      await env.exec('sh', ['-c', `ctr -a ${env.containerdSock} -n ${env.ns} image export - ${env.image.ctrRef} | ctr -a ${env.containerdSock} -n ${nsB} image import -`]);
      for (const id of b) {
        const r = await ctrB([...runArgs('-d', '--runtime-config-path', cfg), env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, show(r)).toBe(0);
      }
      for (const id of a) await waitStatus(id, 'RUNNING');
      const pidB = async (id: string) => {
        for (let n = 0; n < 200; n++) {
          const line = (await ctrB(['task', 'ls'])).stdout.split('\n').find((l) => l.startsWith(id + ' ') && l.includes('RUNNING'));
          if (line) return Number(line.trim().split(/\s+/)[1]);
          await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error(`${id} not running in ${nsB}`);
      };
      const shimsA = new Set(await Promise.all(a.map(async (id) => ppidOf((await taskStatus(id))!.pid))));
      const shimsB = new Set(await Promise.all(b.map(async (id) => ppidOf(await pidB(id)))));
      expect(shimsA.size).toBe(1);
      expect(shimsB.size).toBe(1);
      expect([...shimsA][0]).not.toBe([...shimsB][0]);
      expect(readdirSync(join(env.dir, 'run', 'containerd', 'tsrunc', nsB)).sort()).toEqual([...b].sort());
      // One shim loads a device program once for all its containers with the same rules; another loads its own.
      const progsA = await Promise.all(a.map((id) => deviceProgramIds(cgroupDir(id))));
      const progsB = await Promise.all(b.map((id) => deviceProgramIds(cgroupDir(id, join(env.dir, 'run', 'containerd', 'tsrunc', nsB)))));
      expect(progsA[0]).toHaveLength(1);
      expect(progsA[1]).toEqual(progsA[0]);
      expect(progsB[1]).toEqual(progsB[0]);
      expect(progsB[0]).not.toEqual(progsA[0]);
    } finally {
      for (const id of a) await removeAll(id);
      for (const id of b) {
        await ctrB(['task', 'kill', '-s', 'SIGKILL', id]);
        await ctrB(['task', 'delete', '-f', id]);
        await ctrB(['container', 'delete', id]);
      }
      await ctrB(['image', 'rm', env.image.ctrRef]);
    }
  }, 120_000);

  test('teardown: no shim process, state, rootfs mount or cgroup is left', async () => {
    expect(shimProcesses()).toEqual([]);
    expect(existsSync(stateRoot()) ? readdirSync(stateRoot()) : []).toEqual([]);
    expect(mountsUnder(join(env.dir, 'containerd', 'state'))).toEqual([]);
    // Shim sockets (and their pid files) go with their shims.
    const sockets = join(env.dir, 'run', 'containerd', 's');
    expect(existsSync(sockets) ? readdirSync(sockets) : []).toEqual([]);
    const cg = await env.exec('sh', ['-c', `ls -d /sys/fs/cgroup/${env.ns}/*/ 2>/dev/null || true`]);
    expect(cg.stdout.trim()).toBe('');
  });
});
