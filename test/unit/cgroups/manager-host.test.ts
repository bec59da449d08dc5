// Real cgroupfs on this host: only the cgroup2 mount found in mountinfo (here /sys/fs/cgroup/unified,
// no resource controllers). Every cgroup made here is named tsrunc-test-*; afterAll removes leftovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, readFileSync, rmdirSync } from 'node:fs';
import { posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cgroup } from '../../../src/runtime/cgroups/manager';
import { findCgroup2Mount } from '../../../src/runtime/cgroups/mountinfo';
import { cgroupDir } from '../../../src/runtime/cgroups/path';

const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
const canRun = process.getuid?.() === 0 && mount !== undefined;
const base = `/tsrunc-test-${process.pid}`;
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** A busy loop: a frozen one stops using CPU, a sleeping one never used any. */
function spinner(): ChildProcess {
  const c = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function until(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(c: ChildProcess): Promise<NodeJS.Signals | null> {
  return new Promise((res) => (c.exitCode !== null || c.signalCode !== null ? res(c.signalCode) : c.once('exit', (_code, sig) => res(sig))));
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (!mount) return;
  const top = cgroupDir(base, mount);
  if (existsSync(top)) await Cgroup.open(base, { mount, created: [top] }).remove();
});

describe.skipIf(!canRun)('Cgroup on the host cgroup2 mount', () => {
  it('creates nested cgroups, moves a process in, freezes, thaws, kills and removes', async () => {
    const cg = Cgroup.create(`${base}/a/ctr`, { mount });
    expect(cg.dir).toBe(posix.join(mount!.mountPoint, base, 'a/ctr'));
    expect(cg.created).toEqual([posix.join(mount!.mountPoint, base), posix.join(mount!.mountPoint, base, 'a'), cg.dir]);
    const child = spinner();
    await new Promise((r) => child.once('spawn', r));
    cg.addProcess(child.pid!);
    expect(cg.pids()).toEqual([child.pid]);
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toContain(`0::${base}/a/ctr\n`);
    const start = cpuTicks(child.pid!);
    await until('the spinner to use CPU', () => cpuTicks(child.pid!) > start);

    await cg.freeze();
    expect(cg.isFrozen()).toBe(true);
    expect(readFileSync(posix.join(cg.dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    // Frozen: the busy loop gets no CPU over half a second (it would get ~50 ticks at 100 Hz).
    const frozenAt = cpuTicks(child.pid!);
    await new Promise((r) => setTimeout(r, 500));
    expect(cpuTicks(child.pid!)).toBe(frozenAt);
    await cg.thaw();
    expect(cg.isFrozen()).toBe(false);
    await until('the spinner to run again after thaw', () => cpuTicks(child.pid!) > frozenAt);

    await cg.kill();
    expect(await exited(child)).toBe('SIGKILL');
    expect(cg.pids()).toEqual([]);

    await cg.remove();
    expect(existsSync(posix.join(mount!.mountPoint, base))).toBe(false);
  });

  it('kills a frozen cgroup, sub-cgroups included, and remove() does it too', async () => {
    const cg = Cgroup.create(`${base}/b`, { mount });
    const sub = Cgroup.create(`${base}/b/inner`, { mount });
    const c1 = sleeper();
    const c2 = sleeper();
    await Promise.all([c1, c2].map((c) => new Promise((r) => c.once('spawn', r))));
    cg.addProcess(c1.pid!);
    sub.addProcess(c2.pid!);
    expect(cg.pids().sort()).toEqual([c1.pid, c2.pid].sort());
    await cg.freeze();
    await cg.remove();
    expect(await exited(c1)).toBe('SIGKILL');
    expect(await exited(c2)).toBe('SIGKILL');
    expect(existsSync(cg.dir)).toBe(false);
    expect(existsSync(posix.join(mount!.mountPoint, base))).toBe(false);
  });

  it('gives an O_DIRECTORY fd of the cgroup', () => {
    const cg = Cgroup.create(`${base}/fd`, { mount });
    const fd = cg.fd();
    try {
      const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);
      expect(flags & constants.O_DIRECTORY).toBe(constants.O_DIRECTORY);
      expect(flags & 3).toBe(constants.O_RDONLY); // O_ACCMODE
    } finally {
      closeSync(fd);
      rmdirSync(cg.dir);
      rmdirSync(posix.join(mount!.mountPoint, base));
    }
  });

  it('fails with nothing left behind when a controller is missing', () => {
    const avail = readFileSync(posix.join(mount!.mountPoint, 'cgroup.controllers'), 'utf8');
    expect(avail).not.toMatch(/\bpids\b/); // this host's cgroup2 has no pids controller
    expect(() => Cgroup.create(`${base}/c/ctr`, { mount, resources: { pids: { limit: 5 } } })).toThrow(
      /linux.resources: cgroup controller\(s\) pids not available/,
    );
    expect(existsSync(posix.join(mount!.mountPoint, base))).toBe(false);
  });

  it('rolls back directories when applying fails', () => {
    // unified writes need no controller check: the missing file fails the apply step
    expect(() => Cgroup.create(`${base}/d/ctr`, { mount, resources: { unified: { 'cgroup.max.depth': 'bogus' } } })).toThrow(
      /cannot write "bogus" to .*cgroup.max.depth/,
    );
    expect(existsSync(posix.join(mount!.mountPoint, base))).toBe(false);
  });

  it('applies allowed cgroup.* unified keys', async () => {
    const cg = Cgroup.create(`${base}/e`, { mount, resources: { unified: { 'cgroup.max.depth': '2' } } });
    expect(readFileSync(posix.join(cg.dir, 'cgroup.max.depth'), 'utf8').trim()).toBe('2');
    const s = cg.stats();
    expect(s.cpu.usage).toEqual({ kernel: 0, user: 0 });
    expect(s.memory.usage).toEqual({ limit: 0, failcnt: 0 });
    await cg.remove();
    expect(existsSync(cg.dir)).toBe(false);
  });
});
