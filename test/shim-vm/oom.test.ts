// Inside the qemu guest (pure cgroup v2 with a memory controller): containerd 1.6 runs our shim
// (dist/containerd-shim-tsrunc-v2 by absolute path), a container with `--memory-limit` allocates until
// the kernel's OOM killer acts in its cgroup, and containerd publishes /tasks/oom for it (the shim
// watches memory.events), then the task's exit. Observed with `ctr events`, containerd's own stream.
// The guest is thrown away after the suite: the daemon gets a plain temp dir (test/apparmor-vm does the
// same), not test/engines' isolation, whose 30 s start-up limit containerd may exceed under TCG.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerdConfig, run, showRun, type RunResult } from '../engines/harness';
import { makeBusyboxImage, type ImageArchive } from '../engines/image';
import { REPO } from '../helpers/base';
import { inTestVm } from '../cgroups-vm/helpers';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const NS = 'oomtest';
const LIMIT = 32 << 20;
// A string doubling in the image's static busybox (on the snapshotter's tmpfs: no file pages over 9p
// to reclaim), so the OOM killer acts at once.
const HOG = 'x=0123456789abcdef; while :; do x=$x$x; done';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CtrEvent {
  topic: string;
  namespace: string;
  event: Record<string, unknown>;
}

describe.runIf(inTestVm())('containerd + containerd-shim-tsrunc-v2 in the guest: OOM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-shim-vm-'));
  const sock = join(dir, 'containerd.sock');
  let containerd: ChildProcess | undefined;
  let events: ChildProcess | undefined;
  let eventText = '';
  let image: ImageArchive;
  const ctr = (args: string[], timeout = 180_000) => run('ctr', ['-a', sock, '-n', NS, ...args], { timeout });
  const log = () => readFileSync(join(dir, 'containerd.log'), 'utf8').split('\n').slice(-30).join('\n');
  const show = (r: RunResult): string => showRun(r, log());

  /** `ctr events` lines: `<time> <namespace> <topic> <json>`. */
  function parsedEvents(): CtrEvent[] {
    const out: CtrEvent[] = [];
    for (const line of eventText.split('\n')) {
      const m = /^\S+ \S+ \S+ \S+ (\S+) (\/\S+) (\{.*\})$/.exec(line.trim()) ?? /^\S+ (\S+) (\/\S+) (\{.*\})$/.exec(line.trim());
      if (!m) continue;
      try {
        out.push({ namespace: m[1]!, topic: m[2]!, event: JSON.parse(m[3]!) as Record<string, unknown> });
      } catch {
        // a line cut by the read: the next read completes it
      }
    }
    return out;
  }

  async function waitEvent(pred: (e: CtrEvent) => boolean, what: string, ms = 120_000): Promise<CtrEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const e = parsedEvents().find(pred);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no ${what} in ctr events after ${ms} ms:\n${eventText}\n--- containerd\n${log()}`);
      await sleep(200);
    }
  }

  beforeAll(async () => {
    mkdirSync(join(dir, 'image'));
    image = makeBusyboxImage(join(dir, 'image'));
    const config = join(dir, 'containerd.toml');
    writeFileSync(config, containerdConfig(dir, sock));
    const logFd = openSync(join(dir, 'containerd.log'), 'w');
    containerd = spawn('containerd', ['--config', config], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    containerd.on('error', () => {});
    const deadline = Date.now() + 150_000;
    while (!(existsSync(sock) && (await run('ctr', ['-a', sock, 'version'], { timeout: 30_000 })).code === 0)) {
      if (containerd.exitCode !== null || Date.now() > deadline) throw new Error(`containerd did not come up:\n${log()}`);
      await sleep(250);
    }
    const imp = await ctr(['image', 'import', image.tar]);
    if (imp.code !== 0) throw new Error(`ctr image import: ${show(imp)}`);
    events = spawn('ctr', ['-a', sock, 'events'], { stdio: ['ignore', 'pipe', 'ignore'] });
    events.stdout!.on('data', (d: Buffer) => (eventText += d.toString()));
    // The subscription is live once an event of ours comes through it.
    const probe = await ctr(['container', 'create', image.ctrRef, 'probe', 'true']);
    expect(probe.code, show(probe)).toBe(0);
    await waitEvent((e) => e.topic === '/containers/create' && e.event.id === 'probe', 'probe container event', 30_000);
    await ctr(['container', 'delete', 'probe']);
  });

  afterAll(async () => {
    events?.kill('SIGKILL');
    if (containerd && containerd.exitCode === null && containerd.signalCode === null) {
      const gone = new Promise((r) => containerd!.once('exit', r));
      containerd.kill('SIGTERM');
      await Promise.race([gone, sleep(20_000)]);
      if (containerd.exitCode === null && containerd.signalCode === null) containerd.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  it('run --rm --memory-limit: the container is OOM-killed, containerd publishes /tasks/oom and the exit (137)', async () => {
    const id = 'oom-init';
    const r = await ctr(['run', '--rm', '--runtime', SHIM, '--memory-limit', String(LIMIT), image.ctrRef, id, 'sh', '-c', HOG]);
    expect(r.code, show(r)).toBe(137);
    const oom = await waitEvent((e) => e.topic === '/tasks/oom' && e.event.container_id === id, `/tasks/oom of ${id}`);
    expect(oom.namespace).toBe(NS);
    const exit = await waitEvent((e) => e.topic === '/tasks/exit' && e.event.container_id === id, `/tasks/exit of ${id}`);
    expect(exit.event.exit_status).toBe(137);
    await waitEvent((e) => e.topic === '/tasks/delete' && e.event.container_id === id, `/tasks/delete of ${id}`);
  });

  it('a child OOM-killed in a running task: /tasks/oom while the task runs on; its own exit later', async () => {
    const id = 'oom-child';
    const d = await ctr(['run', '-d', '--runtime', SHIM, '--memory-limit', String(LIMIT), image.ctrRef, id, 'sh', '-c', `sh -c '${HOG}'; echo child-gone-$? > /child; exec sleep 1000`]);
    expect(d.code, show(d)).toBe(0);
    try {
      await waitEvent((e) => e.topic === '/tasks/oom' && e.event.container_id === id, `/tasks/oom of ${id}`);
      // The task runs on under our shim, its state in tsrunc's root, its cgroup limited and OOM-counted.
      const task = await ctr(['task', 'ls']);
      const line = task.stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
      expect(line, show(task)).toMatch(/RUNNING/);
      const state = JSON.parse(readFileSync(`/run/containerd/tsrunc/${NS}/${id}/state.json`, 'utf8')) as { pid: number; cgroupDir: string };
      expect(Number(line.split(/\s+/)[1])).toBe(state.pid);
      const shim = Number(readFileSync(`/proc/${state.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      expect(readFileSync(`/proc/${shim}/cmdline`, 'utf8')).toContain('containerd-shim-tsrunc-v2');
      expect(readFileSync(join(state.cgroupDir, 'memory.max'), 'utf8')).toBe(`${LIMIT}\n`);
      expect(readFileSync(join(state.cgroupDir, 'memory.events'), 'utf8')).toMatch(/^oom_kill [1-9]/m);
      const cat = await ctr(['task', 'exec', '--exec-id', 'look', id, 'sh', '-c', 'while [ ! -s /child ]; do sleep 0.2; done; cat /child']);
      expect(cat.code, show(cat)).toBe(0);
      expect(cat.stdout).toBe('child-gone-137\n');
      expect(parsedEvents().some((e) => e.topic === '/tasks/exit' && e.event.container_id === id && e.event.id === id)).toBe(false);
      expect((await ctr(['task', 'kill', '-s', 'SIGKILL', id])).code).toBe(0);
      const exit = await waitEvent((e) => e.topic === '/tasks/exit' && e.event.container_id === id && e.event.id === id, `/tasks/exit of ${id}`);
      expect(exit.event.exit_status).toBe(137);
    } finally {
      await ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await ctr(['task', 'delete', '-f', id]);
      await ctr(['container', 'delete', id]);
    }
  });
});
