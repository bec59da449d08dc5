// Issue 16: `tsrunc create` SIGKILLed at any instant (at chosen steps through TSRUNC_TEST_CRASH_AT, and
// at timed delays) leaves nothing that `delete --force` does not remove: no cgroup, mount, process,
// state directory, socket or pid-file temporary. With the default and a custom cgroupsPath, a terminal
// (--console-socket) and a createRuntime hook that is still running.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, makeBundle, runId, testRoot, tsrunc, tsruncArgv, uniqueId, type Bundle } from '../helpers';
import { removeTree } from '../helpers/fs';

const CGROUP2 = '/sys/fs/cgroup/unified';
const work = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-crash-`));
const sockets: Socket[] = [];
const server: Server = createServer((c) => {
  sockets.push(c);
  c.on('error', () => undefined);
  c.resume(); // the pty master arrives and is dropped
});
const consoleSocket = join(work, 'console.sock');
const listening = new Promise<void>((r) => server.listen(consoleSocket, r));

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  removeTree(work);
});

type Scenario = 'default' | 'custom' | 'terminal' | 'hook';

interface Case {
  scenario: Scenario;
  bundle: Bundle;
}

/** Where the hook of case `id` writes its pid and its child's. */
const hookLog = (id: string) => join(work, `hook-${id}.log`);
const HOOK_LOG = '@HOOK_LOG@';

const bundles = new Map<Scenario, Case>();

function scenario(s: Scenario): Case {
  let c = bundles.get(s);
  if (c) return c;
  const bundle = makeBundle({
    args: ['sleep', '1000'],
    mutate: (spec) => {
      if (s === 'terminal') spec.process!.terminal = true;
      if (s === 'hook') {
        // a hook that is still running (and has a child) when create is killed
        spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ >> ${HOOK_LOG}; sleep 30 & echo $! >> ${HOOK_LOG}; wait`] }] };
      }
    },
  });
  c = { scenario: s, bundle };
  bundles.set(s, c);
  return c;
}

/** The cgroup path a case uses: a parent of its own for the custom ones, so that its removal shows too. */
function cgroupsPath(c: Case, id: string): string | undefined {
  return c.scenario === 'custom' || c.scenario === 'hook' ? `/tsrunc-test-${runId()}-crash-${id}/ctr` : undefined;
}

/** A bundle of its own for case `id` (cases run in parallel), sharing the scenario's rootfs. */
function caseBundle(c: Case, id: string): string {
  const dir = join(work, `bundle-${id}`);
  mkdirSync(dir);
  const spec = structuredClone(c.bundle.spec);
  spec.root = { path: c.bundle.rootfs };
  const path = cgroupsPath(c, id);
  if (path) spec.linux!.cgroupsPath = path;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec).replaceAll(HOOK_LOG, hookLog(id)));
  return dir;
}

/** Runs create, killed at `crashAt` (a step) or after `delayMs`; resolves once it is gone. */
async function killedCreate(c: Case, id: string, pidFile: string, kill: Kill): Promise<{ signal: string | null; stderr: string }> {
  const args = ['create', '--bundle', caseBundle(c, id), '--pid-file', pidFile];
  if (c.scenario === 'terminal') args.push('--console-socket', consoleSocket);
  const child = spawn(process.execPath, tsruncArgv([...args, id]), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnv(kill.crashAt ? { TSRUNC_TEST_CRASH_AT: kill.crashAt } : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<string | null>((r) => child.once('exit', (_code, sig) => r(sig)));
  const timer = kill.delayMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), kill.delayMs) : undefined;
  if (kill.hookRunning !== undefined) {
    // the hook has started and forked its child: kill create while it runs (plus a jitter)
    const end = Date.now() + 20_000;
    while (readOr(hookLog(id)).split('\n').length < 3 && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, kill.hookRunning));
    child.kill('SIGKILL');
  }
  const signal = await exited;
  clearTimeout(timer);
  return { signal, stderr };
}

/** Whatever of case `id` is still on the host. */
function leftovers(c: Case, id: string, pidFile: string): string[] {
  const found: string[] = [];
  const stateDir = join(testRoot(), id);
  if (existsSync(stateDir)) found.push(`state dir ${stateDir}`);
  const path = cgroupsPath(c, id);
  const cgroups = path ? [join(CGROUP2, path), join(CGROUP2, path, '..')] : [join(CGROUP2, 'tsrunc', id)];
  for (const d of cgroups) if (existsSync(d)) found.push(`cgroup ${d}`);
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (m.includes(stateDir) || m.includes(c.bundle.dir)) found.push(`mount ${m}`);
  }
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n')) if (line.includes(stateDir)) found.push(`socket ${line}`);
  for (const f of readdirSync(join(pidFile, '..'))) if (f.includes('.tmp-')) found.push(`pid-file temporary ${f}`);
  const hookPids = readOr(hookLog(id)).split('\n').filter(Boolean).map(Number);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)) {
    const stat = readOr(`/proc/${pid}/stat`);
    if (!stat || /^\d+ \(.*\) [ZX] /.test(stat)) continue;
    if (hookPids.includes(pid)) found.push(`hook process ${pid}`);
    if (readOr(`/proc/${pid}/cgroup`).includes(id)) found.push(`process ${pid} in the container's cgroup`);
    // the helper and the init hold the state directory (reading every process's fds costs ~0.5 s here)
    if (!stat.startsWith(`${pid} (tsrunc-init) `)) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = '';
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link.startsWith(stateDir)) found.push(`process ${pid} holding ${link}`);
    }
  }
  return found;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Processes of a killed create may still be on their way out (they die when the runtime's socket closes). */
async function settledLeftovers(c: Case, id: string, pidFile: string): Promise<string[]> {
  const end = Date.now() + 5000;
  for (;;) {
    const found = leftovers(c, id, pidFile);
    if (!found.length || Date.now() > end) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How a create is killed: at a step (it SIGKILLs itself), after a delay, or while its hook runs. */
interface Kill {
  crashAt?: string;
  delayMs?: number;
  /** ms after the hook was seen running */
  hookRunning?: number;
}

async function crashAndClean(c: Case, kill: Kill): Promise<void> {
  const id = uniqueId(`crash-${c.scenario}`);
  const pidDir = mkdtempSync(join(work, 'pid-'));
  const pidFile = join(pidDir, 'pid');
  const created = await killedCreate(c, id, pidFile, kill);
  const what = `${c.scenario}, killed ${JSON.stringify(kill)}`;
  // a step is reached, and kills create there
  if (kill.crashAt || kill.hookRunning !== undefined) expect(created.signal, `${what}: ${created.stderr}`).toBe('SIGKILL');
  if (kill.hookRunning !== undefined) expect(readOr(hookLog(id)).split('\n').filter(Boolean)).toHaveLength(2);
  const r = await tsrunc(['delete', '--force', id]);
  expect(r.code, `${what}: delete --force: ${r.stderr}`).toBe(0);
  expect(await settledLeftovers(c, id, pidFile), what).toEqual([]);
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

const PARALLEL = 3;
const measured = new Map<Scenario, number>();

const STEPS = ['state-dir', 'cgroup-mkdir', 'cgroup-made', 'cgroup', 'helper', 'init-pid', 'ready', 'state-written', 'pid-file'];

/** Wall time of an unharmed create of this scenario (and a check that it works at all). */
async function createTime(c: Case): Promise<number> {
  const id = uniqueId(`crash-${c.scenario}`);
  const pidFile = join(mkdtempSync(join(work, 'pid-')), 'pid');
  const t0 = Date.now();
  const created = await killedCreate(c, id, pidFile, {});
  const ms = Date.now() - t0;
  expect(created.stderr).toBe('');
  expect(existsSync(join(testRoot(), id, 'state.json'))).toBe(true);
  expect((await tsrunc(['delete', '--force', id])).code).toBe(0);
  expect(await settledLeftovers(c, id, pidFile)).toEqual([]);
  return ms;
}

const PLAN: Record<'custom' | 'default' | 'terminal', { steps: string[]; delays: number }> = {
  custom: { steps: STEPS, delays: 5 },
  default: { steps: ['state-dir', 'cgroup-mkdir', 'cgroup-made', 'init-pid', 'state-written'], delays: 3 },
  terminal: { steps: ['helper', 'ready', 'pid-file'], delays: 3 },
};

describe('create killed at any instant, then delete --force', () => {
  it.each(['custom', 'default', 'terminal'] as const)('%s: at chosen steps and at timed delays', async (s) => {
    await listening;
    const c = scenario(s);
    const total = await createTime(c);
    measured.set(s, total);
    const { steps, delays: n } = PLAN[s];
    // spread over the whole create (node's start included): 1-in-N timings among them
    const delays = Array.from({ length: n }, (_, i) => Math.round((total * (i + 1)) / (n + 1)));
    await pool([...steps.map((crashAt) => ({ crashAt })), ...delays.map((delayMs) => ({ delayMs }))], PARALLEL, (k) => crashAndClean(c, k));
  }, 60_000);

  it('a createRuntime hook still running (custom cgroup): the hook and its child go too', async () => {
    const c = scenario('hook');
    const total = measured.get('custom') ?? 1000;
    const kills: Kill[] = [{ crashAt: 'hook' }, { hookRunning: 0 }, { hookRunning: 20 }, { hookRunning: 50 }, { delayMs: Math.round(total / 2) }, { delayMs: total }];
    await pool(kills, PARALLEL, (k) => crashAndClean(c, k));
  }, 60_000);
});
