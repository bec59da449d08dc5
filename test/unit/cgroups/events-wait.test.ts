// Waits on cgroup.events (freeze, thaw, kill) are woken by the kernel's change notification, not by
// polling: on this host's cgroup2 mount (no controllers; cgroup.freeze and cgroup.kill are core files).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cgroup } from '../../../src/runtime/cgroups/manager';
import { waitCgroupEvents } from '../../../src/runtime/cgroups/events-wait';
import { findCgroup2Mount } from '../../../src/runtime/cgroups/mountinfo';
import { cgroupDir } from '../../../src/runtime/cgroups/path';

const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
const canRun = process.getuid?.() === 0 && mount !== undefined;
const base = `/tsrunc-test-evw-${process.pid}`;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (!mount) return;
  const top = cgroupDir(base, mount);
  if (existsSync(top)) await Cgroup.open(base, { mount, created: [top] }).remove();
});

async function sleeperIn(cg: Cgroup): Promise<ChildProcess> {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  await new Promise((r) => c.once('spawn', r));
  cg.addProcess(c.pid!);
  return c;
}

describe.skipIf(!canRun)('waiting on cgroup.events', () => {
  it('reads the file only when the kernel reports a change: once while nothing happens, then on the freeze', async () => {
    const cg = Cgroup.create(`${base}/a`, { mount });
    await sleeperIn(cg);
    let reads = 0;
    const frozen = waitCgroupEvents(cg.dir, (ev) => (reads++, ev?.get('frozen') === 1), 10_000, 'frozen');
    await new Promise((r) => setTimeout(r, 1000));
    // A poll (every few ms) would have read it hundreds of times by now. (At most one more read than
    // the first: the kernel delivers notifications from a work queue, so the populated change of
    // moving the sleeper in may arrive after the watch was set.)
    expect(reads).toBeLessThanOrEqual(2);
    const at = Date.now();
    writeFileSync(posix.join(cg.dir, 'cgroup.freeze'), '1');
    await frozen;
    expect(Date.now() - at).toBeLessThan(2000);
    expect(reads).toBeLessThanOrEqual(4);
    await cg.thaw();
    expect(cg.isFrozen()).toBe(false);
  });

  it('times out naming the cgroup and the state it waited for', async () => {
    const cg = Cgroup.create(`${base}/b`, { mount });
    await expect(waitCgroupEvents(cg.dir, (ev) => ev?.get('frozen') === 1, 300, 'frozen')).rejects.toThrow(`cgroup ${cg.dir} not frozen after 300 ms`);
    await cg.remove();
  });

  it('kill() returns once the cgroup is empty, frozen or not', async () => {
    const cg = Cgroup.create(`${base}/c`, { mount });
    const a = await sleeperIn(cg);
    const b = await sleeperIn(cg);
    await cg.freeze();
    await cg.kill();
    expect(cg.events().get('populated')).toBe(0);
    expect(a.signalCode ?? (await new Promise((r) => a.once('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    expect(b.signalCode ?? (await new Promise((r) => b.once('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    await cg.remove();
  });
});
