// Issue 16 for the shim: containerd-shim-tsrunc-v2 SIGKILLed at any instant of Create (at chosen steps
// through TSRUNC_TEST_CRASH_AT, while a createRuntime hook runs, and at timed delays during `ctr run -d`)
// leaves nothing once containerd has run the shim's `delete` (or `tsrunc delete --force` ran against the
// shim's state root instead): no process, mount, cgroup, state directory or socket file.
// The crash step reaches the shim daemon through a wrapper used as the runtime binary: containerd runs
// `start` and `delete` through it, and the daemon inherits its environment.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, REPO, uniqueId, type RunResult } from './harness';
import { cgroup2Mount, readMountinfo } from '../helpers/mountinfo';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const haveContainerd = installed('containerd') && installed('ctr');
const PARALLEL = 4;

/**
 * How the shim is killed: it kills itself at a step, or the test kills it while the hook runs, or after a
 * delay from the shim's start (`start` wrote shim.pid) or from the start of its Create (the shim wrote
 * its bundle record, the first thing Create does).
 */
type Kill = { step: string } | { delayMs: number; after: 'start' | 'create' } | { hookRunning: number };

interface Case {
  cgroup: 'default' | 'custom';
  terminal?: boolean;
  /** A createRuntime hook that blocks (spec from --config, no snapshot: the shim mounts nothing). */
  hook?: boolean;
  /** stdout to a binary:// logger that never ends by itself (the shim starts it during Create). */
  logger?: boolean;
  /** A state root of its own (runtime options): `delete` must learn it from the shim's record. */
  ownRoot?: boolean;
  /** Who cleans up after the dead shim: its own `delete`, or `tsrunc delete --force` in its place. */
  cleaner: 'shim' | 'cli';
  kill: Kill;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

describe.skipIf(!haveContainerd)('the shim killed during Create', () => {
  let env: EngineEnv;
  let cg2: string;
  let baseSpec: Record<string, unknown>;
  const wrappers = new Map<string, string>();
  /** Sockets of shims killed before containerd connected (cleaner 'shim'). */
  const unreachedSockets: string[] = [];
  /** Where the kills of the current test landed. */
  const outcomes: string[] = [];

  beforeAll(async () => {
    env = await EngineEnv.start({ image: { dirs: ['run'] } });
    cg2 = cgroup2Mount()!;
    writeFileSync(ownRootConfig(), JSON.stringify({ root: join(env.dir, 'own-root') }));
    makeBusyboxRootfs(join(env.dir, 'hook-rootfs'));
    // ready at once (fd 5 closed), then deaf to the end of its input: only a kill ends it
    writeFileSync(loggerBin(), `#!/bin/sh\necho $$ >> ${env.dir}/logs/logger-$CONTAINER_ID.pid\nexec 5>&-\nexec sleep 1000\n`, { mode: 0o755 });
    const s = await env.ctr(['oci', 'spec']);
    baseSpec = JSON.parse(s.stdout) as Record<string, unknown>;
  });

  afterAll(async () => {
    await env?.stop();
  });

  const stateRoot = (c?: Case) => (c?.ownRoot ? join(env.dir, 'own-root', env.ns) : join(env.dir, 'run', 'containerd', 'tsrunc', env.ns));
  const ownRootConfig = () => join(env.dir, 'own-root.json');
  const bundleOf = (id: string) => join(env.dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', env.ns, id);
  /** The shim's socket file (its name as containerd's shims make it; /run is the env's). */
  const socketOf = (id: string) =>
    join(env.dir, 'run', 'containerd', 's', createHash('sha256').update(join(env.containerdSock, env.ns, id)).digest('hex'));
  const hookLog = (id: string) => join(env.dir, 'logs', `hook-${id}.log`);
  const loggerBin = () => join(env.dir, 'bin', 'stubborn-logger');
  const loggerPids = (id: string) => readOr(join(env.dir, 'logs', `logger-${id}.pid`)).split('\n').filter(Boolean).map(Number);
  const cliMark = (id: string) => join(env.dir, 'logs', `cli-${id}.mark`);
  const cgroupsOf = (c: Case, id: string): string[] =>
    c.cgroup === 'custom' ? [`/${env.tag}-cc-${id}/ctr`, `/${env.tag}-cc-${id}`] : [`/${env.ns}/${id}`];

  /**
   * The runtime binary containerd runs: the shim with TSRUNC_TEST_CRASH_AT set. With cleaner 'cli', its
   * `delete` runs `tsrunc delete --force` instead, notes whether the rootfs is still mounted (containerd
   * unmounts it right after), and answers an empty DeleteResponse.
   */
  function wrapper(step: string | undefined, cleaner: 'shim' | 'cli', root: string): string {
    const key = `${step || 'none'}-${cleaner}-${root === stateRoot() ? 'default' : 'own'}`;
    let file = wrappers.get(key);
    if (file) return file;
    file = join(env.dir, 'bin', `shim-${key}`);
    const lines = ['#!/bin/sh', 'unset NODE_EXTRA_CA_CERTS'];
    if (step) lines.push(`export TSRUNC_TEST_CRASH_AT=${step}`);
    if (cleaner === 'cli') {
      lines.push(
        'for a; do last=$a; done',
        'if [ "$last" = delete ]; then',
        '  id=; bundle=$PWD',
        '  while [ $# -gt 0 ]; do case $1 in -id) id=$2; shift;; -bundle) bundle=$2; shift;; esac; shift; done',
        `  ${env.tsruncBin} --root ${root} delete --force "$id" >&2`,
        `  if mountpoint -q "$bundle/rootfs"; then echo mounted; else echo clean; fi > ${env.dir}/logs/cli-"$id".mark`,
        '  exit 0',
        'fi',
      );
    }
    lines.push(`exec ${SHIM} "$@"`, '');
    writeFileSync(file, lines.join('\n'), { mode: 0o755 });
    wrappers.set(key, file);
    return file;
  }

  /** The spec of the hook case: the image's rootfs read-only, a createRuntime hook that blocks with a child. */
  function hookSpec(c: Case, id: string): string {
    const spec = structuredClone(baseSpec) as {
      process: { args: string[]; terminal?: boolean };
      root: { path: string; readonly?: boolean };
      hooks?: unknown;
      linux: { cgroupsPath?: string };
    };
    spec.process.args = ['sleep', '1000'];
    spec.process.terminal = false;
    spec.root = { path: join(env.dir, 'hook-rootfs'), readonly: true };
    spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ >> ${hookLog(id)}; sleep 30 & echo $! >> ${hookLog(id)}; wait`] }] };
    spec.linux.cgroupsPath = cgroupsOf(c, id)[0];
    const file = join(env.dir, 'logs', `spec-${id}.json`);
    writeFileSync(file, JSON.stringify(spec));
    return file;
  }

  function ctrRun(c: Case, id: string): Promise<RunResult> {
    const step = 'step' in c.kill ? c.kill.step : undefined;
    const args = ['run', '-d', '--runtime', wrapper(step, c.cleaner, stateRoot(c))];
    if (c.ownRoot) args.push('--runtime-config-path', ownRootConfig());
    if (c.hook) return env.ctr([...args, '--config', hookSpec(c, id), id], { timeout: 30_000 });
    args.push('--cpu-shares', '0');
    if (c.cgroup === 'custom') args.push('--cgroup', cgroupsOf(c, id)[0]!);
    if (c.terminal) args.push('-t');
    if (c.logger) args.push('--log-uri', `binary://${loggerBin()}`);
    args.push(env.image.ctrRef, id, 'sleep', '1000');
    if (!c.terminal) return env.ctr(args, { timeout: 30_000 });
    // -t wants a terminal on ctr's stdin
    return env.exec('script', ['-qec', ['ctr', '-a', env.containerdSock, '-n', env.ns, ...args].join(' '), '/dev/null'], { timeout: 30_000 });
  }

  /** The shim's pid, once `start` has written it to the bundle (undefined if ctr ended first). */
  async function shimPid(id: string, done: () => boolean): Promise<number | undefined> {
    const file = join(bundleOf(id), 'shim.pid');
    while (!done()) {
      const pid = Number(readOr(file));
      if (pid > 0) return pid;
      await sleep(2);
    }
    return undefined;
  }

  /** Waits until the shim's Create has begun (its bundle record exists); false if ctr ended first. */
  async function createBegun(id: string, done: () => boolean): Promise<boolean> {
    while (!done()) {
      if (existsSync(join(bundleOf(id), 'tsrunc-shim.json'))) return true;
      await sleep(2);
    }
    return false;
  }

  function killShim(pid: number, id: string): void {
    // only while it still is the shim of this container
    if (!readOr(`/proc/${pid}/cmdline`).split('\0').includes(id)) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }

  /** Whatever of container `id` is still on the host. */
  function leftovers(c: Case, id: string, unreached = false): string[] {
    const found: string[] = [];
    const state = join(stateRoot(c), id);
    const bundle = bundleOf(id);
    if (existsSync(state)) found.push(`state dir ${state}`);
    for (const cg of cgroupsOf(c, id)) if (existsSync(join(cg2, cg))) found.push(`cgroup ${cg}`);
    for (const m of readMountinfo(env.holderPid)) {
      if (m.mountPoint.startsWith(bundle) || m.mountPoint.startsWith(state)) found.push(`mount ${m.mountPoint}`);
    }
    // `tsrunc delete --force` cannot know the shim's socket: only the shim's own `delete` removes it
    // (and a shim containerd never reached gets no `delete`: the next one sweeps its socket)
    const sock = socketOf(id);
    if (c.cleaner === 'shim' && !unreached) for (const f of [sock, `${sock}.pid`]) if (existsSync(f)) found.push(`file ${f}`);
    for (const line of readOr('/proc/net/unix').split('\n')) if (line.includes(state)) found.push(`socket ${line}`);
    const hookPids = readOr(hookLog(id)).split('\n').filter(Boolean).map(Number);
    for (const pid of loggerPids(id)) if (/^\d+ \(.*\) [^ZX] /.test(readOr(`/proc/${pid}/stat`))) found.push(`logger process ${pid}`);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)) {
      const stat = readOr(`/proc/${pid}/stat`);
      if (!stat || /^\d+ \(.*\) [ZX] /.test(stat)) continue;
      if (hookPids.includes(pid)) found.push(`hook process ${pid}`);
      const cgLine = /^0::(.*)$/m.exec(readOr(`/proc/${pid}/cgroup`))?.[1] ?? '';
      if (cgroupsOf(c, id).some((cg) => cgLine === cg || cgLine.startsWith(`${cg}/`))) found.push(`process ${pid} in the container's cgroup`);
      if (readOr(`/proc/${pid}/cmdline`).split('\0').includes(id)) found.push(`process ${pid}: ${readOr(`/proc/${pid}/cmdline`).replace(/\0/g, ' ')}`);
    }
    return found;
  }

  /** Leftovers once they stop shrinking (containerd cleans up after a dead shim asynchronously). */
  async function settled(c: Case, id: string, ms = 15_000, unreached = false): Promise<string[]> {
    const end = Date.now() + ms;
    for (;;) {
      const found = leftovers(c, id, unreached);
      if (!found.length || Date.now() > end) return found;
      await sleep(100);
    }
  }

  async function crashAndCheck(c: Case): Promise<void> {
    const id = uniqueId(c.hook ? 'hk' : c.terminal ? 'tty' : c.logger ? 'log' : c.cgroup === 'custom' ? 'cc' : 'dc');
    const what = `${JSON.stringify(c)} (${id})`;
    let finished = false;
    const running = ctrRun(c, id).finally(() => (finished = true));
    if ('delayMs' in c.kill) {
      const pid = await shimPid(id, () => finished);
      if (pid && (c.kill.after === 'start' || (await createBegun(id, () => finished)))) {
        await sleep(c.kill.delayMs);
        killShim(pid, id);
      }
    } else if ('hookRunning' in c.kill) {
      const pid = await shimPid(id, () => finished);
      // the hook has started and forked its child: kill the shim while it runs (plus a jitter)
      while (!finished && readOr(hookLog(id)).split('\n').length < 3) await sleep(5);
      await sleep(c.kill.hookRunning);
      if (pid) killShim(pid, id);
    }
    const r = await running;
    if (!('delayMs' in c.kill)) {
      // the step is reached: the shim dies there, and Create fails
      expect(r.code, `${what}: ctr run should fail\n${r.stdout}${r.stderr}`).not.toBe(0);
      expect(r.timedOut, what).toBe(false);
    }
    // (at step `hook` the shim dies once it has recorded the hook's pid, before the hook may run)
    if ('hookRunning' in c.kill) {
      expect(readOr(hookLog(id)).split('\n').filter(Boolean), `${what}: the hook ran\n${r.stdout}${r.stderr}`).toHaveLength(2);
    }
    // Killed before containerd could connect: containerd runs no `delete` (it never had a task), and
    // nothing but the shim's socket exists yet.
    const unreached = /failed to start shim: start failed: dial unix .*connection refused/.test(r.stderr);
    if (unreached) unreachedSockets.push(socketOf(id));
    outcomes.push(unreached ? 'before containerd connected' : r.code ? 'during Create' : 'after Create');
    // containerd noticed (the connection closed) and ran the shim's `delete`
    const first = await settled(c, id, 15_000, unreached);
    await env.ctr(['task', 'rm', '-f', id], { timeout: 10_000 });
    await env.ctr(['container', 'rm', id], { timeout: 10_000 });
    const left = await settled(c, id, 5000, unreached);
    expect(first, `${what} once containerd cleaned up (ctr run: ${r.code} ${r.stderr.trim()})`).toEqual([]);
    expect(left, `${what} after ctr rm\n${env.daemonLog('containerd').split('\n').slice(-10).join('\n')}`).toEqual([]);
    if (c.cleaner === 'cli' && !unreached) {
      const end = Date.now() + 10_000;
      while (!existsSync(cliMark(id)) && Date.now() < end) await sleep(50);
      // `tsrunc delete --force` itself unmounted the shim's rootfs (containerd would have, after it)
      expect(readOr(cliMark(id)).trim(), `${what} (ctr run: ${r.code} ${r.stderr.trim()})`).toBe('clean');
      // the shim's socket is the shim's to remove (its `delete` did not run here)
      for (const f of [socketOf(id), `${socketOf(id)}.pid`]) rmSync(f, { force: true });
    }
  }

  /** Runs every case (PARALLEL at a time) and fails with all the cases that failed, not just the first. */
  async function pool(cases: Case[]): Promise<void> {
    const queue = [...cases];
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
          await crashAndCheck(c).catch((err: Error) => failures.push(err.message));
        }
      }),
    );
    const counts: Record<string, number> = {};
    for (const o of outcomes.splice(0)) counts[o] = (counts[o] ?? 0) + 1;
    console.log(`shim kills: ${JSON.stringify(counts)}`);
    expect(failures).toEqual([]);
    if (unreachedSockets.length) {
      // the `delete` of the next container (containerd runs it after every Delete) sweeps them
      await unharmed({ cgroup: 'default', cleaner: 'shim' });
      expect(unreachedSockets.flatMap((f) => [f, `${f}.pid`]).filter((f) => existsSync(f))).toEqual([]);
      unreachedSockets.length = 0;
    }
  }

  /** ms from the shim's start, and from its Create, to the end of an unharmed `ctr run -d` (and a check that it works). */
  async function unharmed(c: Omit<Case, 'kill'>): Promise<{ start: number; create: number }> {
    const id = uniqueId('ok');
    let finished = false;
    const running = ctrRun({ ...c, kill: { step: '' } }, id).finally(() => (finished = true));
    await shimPid(id, () => finished);
    const t0 = Date.now();
    await createBegun(id, () => finished);
    const t1 = Date.now();
    const r = await running;
    const ms = { start: Date.now() - t0, create: Date.now() - t1 };
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    await env.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    await env.ctr(['task', 'rm', '-f', id], { timeout: 10_000 });
    await env.ctr(['container', 'rm', id]);
    expect(await settled({ ...c, kill: { step: '' } }, id)).toEqual([]);
    return ms;
  }

  /** n kills spread over `total` ms after `after`. */
  const delays = (total: number, n: number, after: 'start' | 'create'): Kill[] =>
    Array.from({ length: n }, (_, i) => ({ delayMs: Math.round((total * i) / n), after }));

  test('at chosen steps: rootfs mounted, stdio open (a binary:// logger too), cgroup made, helper and init started, state written', async () => {
    const steps = ['shim-rootfs', 'shim-io', 'cgroup', 'init-pid', 'ready', 'state-written'];
    const cases: Case[] = [
      ...steps.map((step): Case => ({ cgroup: 'default', cleaner: 'shim', kill: { step } })),
      { cgroup: 'custom', cleaner: 'shim', kill: { step: 'cgroup' } },
      ...['shim-rootfs', 'cgroup-made', 'ready'].map((step): Case => ({ cgroup: 'custom', ownRoot: true, cleaner: 'shim', kill: { step } })),
      ...['shim-io', 'ready'].map((step): Case => ({ cgroup: 'default', terminal: true, cleaner: 'shim', kill: { step } })),
      ...['shim-io', 'state-written'].map((step): Case => ({ cgroup: 'default', logger: true, cleaner: 'shim', kill: { step } })),
    ];
    await pool(cases);
  }, 120_000);

  test('while a createRuntime hook blocks (custom cgroup): the hook and its child go too', async () => {
    const cases: Case[] = [{ step: 'hook' }, { hookRunning: 0 }, { hookRunning: 30 }].map((kill): Case => ({ cgroup: 'custom', hook: true, cleaner: 'shim', kill }));
    await pool(cases);
  }, 120_000);

  test('at timed delays during ctr run -d (default and custom cgroup, terminal)', async () => {
    const t = await unharmed({ cgroup: 'default', cleaner: 'shim' });
    console.log(`ctr run -d: ${t.start} ms from the shim's start, ${t.create} ms from its Create`);
    const cases: Case[] = [
      ...delays(t.start - t.create, 2, 'start').map((kill): Case => ({ cgroup: 'default', cleaner: 'shim', kill })),
      ...delays(t.create, 4, 'create').map((kill): Case => ({ cgroup: 'default', cleaner: 'shim', kill })),
      ...delays(t.create, 4, 'create').map((kill): Case => ({ cgroup: 'custom', cleaner: 'shim', kill })),
      ...delays(t.create, 3, 'create').map((kill): Case => ({ cgroup: 'default', terminal: true, cleaner: 'shim', kill })),
    ];
    await pool(cases);
  }, 120_000);

  test('tsrunc delete --force against the shim\'s state root cleans as the shim\'s delete does', async () => {
    const t = await unharmed({ cgroup: 'custom', cleaner: 'cli' });
    const cases: Case[] = [
      ...['shim-rootfs', 'cgroup', 'ready'].map((step): Case => ({ cgroup: 'custom', cleaner: 'cli', kill: { step } })),
      { cgroup: 'custom', hook: true, cleaner: 'cli', kill: { hookRunning: 10 } },
      { cgroup: 'custom', logger: true, cleaner: 'cli', kill: { step: 'shim-io' } },
      ...delays(t.create, 2, 'create').map((kill): Case => ({ cgroup: 'custom', cleaner: 'cli', kill })),
    ];
    await pool(cases);
  }, 120_000);
});
