// Inside the VM: the library creates a cgroup with real controllers and the kernel enforces the limits on
// plain processes moved into it (the container runtime is not needed for this).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cgroup } from '../../src/runtime/cgroups/manager';
import { findCgroup2Mount } from '../../src/runtime/cgroups/mountinfo';
import { parseKeyValues } from '../../src/runtime/cgroups/fsutil';
import type { LinuxResources } from '../../src/runtime/cgroups/types';
import { held, inTestVm, killHeld } from './helpers';

const VM = inTestVm();
const BUSYBOX = '/run/vm/busybox'; // static, on tmpfs (test/vm/initramfs-init)
const made: Cgroup[] = [];
let ram: { major: number; minor: number } | undefined;

function read(cg: Cgroup, file: string): string {
  return readFileSync(posix.join(cg.dir, file), 'utf8').trim();
}

function create(name: string, resources: LinuxResources): Cgroup {
  const cg = Cgroup.create(`/tsrunc-vm/${name}`, { resources });
  made.push(cg);
  return cg;
}

beforeAll(() => {
  if (!VM) return;
  // a RAM disk gives io.max a real block device (the VM has only 9p)
  execFileSync('modprobe', ['brd', 'rd_nr=1', 'rd_size=8192']);
  const st = statSync('/dev/ram0');
  ram = { major: Math.floor(st.rdev / 256), minor: st.rdev % 256 };
});

afterAll(async () => {
  killHeld();
  for (const cg of made.reverse()) await cg.remove();
  if (VM) expect(existsSync('/sys/fs/cgroup/tsrunc-vm')).toBe(false);
});

describe.skipIf(!VM)('cgroup v2 limits in the VM', () => {
  it('finds the pure v2 mount and enables the controllers the resources need', () => {
    const m = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'))!;
    expect(m.mountPoint).toBe('/sys/fs/cgroup');
    const cg = create('files', {
      memory: { limit: 64 << 20, reservation: 16 << 20, swap: 64 << 20 },
      pids: { limit: 20 },
      cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
      blockIO: { throttleReadBpsDevice: [{ ...ram!, rate: 1 << 20 }], throttleWriteIOPSDevice: [{ ...ram!, rate: 100 }] },
    });
    expect(read(cg, 'cgroup.controllers').split(' ')).toEqual(expect.arrayContaining(['cpu', 'cpuset', 'io', 'memory', 'pids']));
    expect(read(cg, 'memory.max')).toBe(String(64 << 20));
    expect(read(cg, 'memory.low')).toBe(String(16 << 20));
    expect(read(cg, 'pids.max')).toBe('20');
    expect(read(cg, 'cpu.max')).toBe('20000 100000');
    expect(read(cg, 'cpu.weight')).toBe('59');
    expect(read(cg, 'cpuset.cpus')).toBe('0');
    expect(read(cg, 'io.max')).toBe(`${ram!.major}:${ram!.minor} rbps=1048576 wbps=max riops=max wiops=100`);
    // the parent we created carries the controllers down, the root is untouched apart from subtree_control
    expect(read(Cgroup.open('/tsrunc-vm'), 'cgroup.subtree_control').split(' ')).toEqual(
      expect.arrayContaining(['cpu', 'cpuset', 'io', 'memory', 'pids']),
    );
  });

  it('stops a fork burst at pids.max', async () => {
    const cg = create('pids', { pids: { limit: 10 } });
    const sh = await held('i=0; while [ $i -lt 40 ]; do sleep 60 & i=$((i+1)); done; wait');
    cg.addProcess(sh.pid);
    sh.go();
    const deadline = Date.now() + 60_000;
    while (parseKeyValues(read(cg, 'pids.events')).get('max')! < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(parseKeyValues(read(cg, 'pids.events')).get('max')).toBeGreaterThan(0);
    expect(Number(read(cg, 'pids.current'))).toBeLessThanOrEqual(10);
    expect(cg.pids().length).toBeLessThanOrEqual(10);
    expect(cg.stats().pids).toEqual({ current: Number(read(cg, 'pids.current')), limit: 10 });
    await cg.kill();
    // the shell either died from the kill or gave up on a failed fork ("Cannot fork")
    const { signal, stderr } = await sh.exit;
    expect(signal === 'SIGKILL' || /fork/i.test(stderr)).toBe(true);
  });

  it('OOM-kills a memory hog at memory.max', async () => {
    const cg = create('mem', { memory: { limit: 32 << 20, swap: 32 << 20 } });
    expect(read(cg, 'memory.swap.max')).toBe('0');
    // a string doubling in the static busybox copied to tmpfs: no file pages of its own to reclaim,
    // so the OOM killer acts at once instead of thrashing text pages over 9p
    const hog = await held(`exec ${BUSYBOX} sh -c 'x=0123456789abcdef; while :; do x=$x$x; done'`);
    cg.addProcess(hog.pid);
    hog.go();
    const { signal } = await hog.exit;
    expect(signal).toBe('SIGKILL');
    const ev = parseKeyValues(read(cg, 'memory.events'));
    expect(ev.get('oom_kill')).toBeGreaterThanOrEqual(1);
    const s = cg.stats();
    expect(s.memory.usage.limit).toBe(32 << 20);
    expect(s.memory.usage.failcnt).toBeGreaterThan(0);
    expect(s.memory.usage.max).toBeGreaterThan(30 << 20);
  });

  it('throttles a busy loop at cpu.max', async () => {
    const cg = create('cpu', { cpu: { quota: 10000, period: 100000 } });
    const busy = await held('while :; do :; done');
    cg.addProcess(busy.pid);
    const t0 = process.hrtime.bigint();
    busy.go();
    // Throttled for a number of periods (however slow the emulated CPU is to get going), then compare
    // the CPU time with the wall time: 10% of one CPU, so well under half of it.
    const deadline = Date.now() + 120_000;
    let s = cg.stats();
    while ((s.cpu.throttling.throttledPeriods ?? 0) < 5) {
      if (Date.now() > deadline) throw new Error(`never throttled: ${JSON.stringify(s.cpu)}`);
      await new Promise((r) => setTimeout(r, 100));
      s = cg.stats();
    }
    const wallNs = Number(process.hrtime.bigint() - t0);
    await cg.kill();
    await busy.exit;
    expect(s.cpu.usage.total!).toBeLessThan(wallNs / 2);
  });

  it('throttles reads at io.max', async () => {
    const cg = create('io', { blockIO: { throttleReadBpsDevice: [{ ...ram!, rate: 1 << 20 }] } });
    const t0 = Date.now();
    const dd = await held('exec dd if=/dev/ram0 of=/dev/null bs=64k count=48 iflag=direct');
    cg.addProcess(dd.pid);
    dd.go();
    const { code, stderr } = await dd.exit;
    expect({ code, stderr }).toMatchObject({ code: 0 });
    // 3 MiB at 1 MiB/s: about 2 s after the first second's budget
    expect(Date.now() - t0).toBeGreaterThan(1500);
    const bytes = cg.stats().blkio.ioServiceBytesRecursive!.find((e) => e.op === 'Read' && e.major === ram!.major);
    expect(bytes?.value).toBe(3 << 20);
  });

  it('freezes and thaws, and remove() kills what is left', async () => {
    const cg = create('freeze', {});
    const sh = await held('while :; do sleep 0.1; done');
    cg.addProcess(sh.pid);
    sh.go();
    await cg.freeze();
    expect(cg.isFrozen()).toBe(true);
    await cg.thaw();
    expect(cg.isFrozen()).toBe(false);
    await cg.freeze();
    await cg.remove();
    expect((await sh.exit).signal).toBe('SIGKILL');
    expect(existsSync(cg.dir)).toBe(false);
  });

  it('updates limits, refusing memory.max below the usage with checkBeforeUpdate', async () => {
    const cg = create('update', { memory: { limit: 64 << 20 } });
    // grow a string to 4 MiB, then idle
    const sh = await held(`exec ${BUSYBOX} sh -c 'x=0123456789abcdef; while [ \${#x} -lt 4194304 ]; do x=$x$x; done; echo ready >&2; exec 0<&-; while :; do sleep 1; done'`);
    cg.addProcess(sh.pid);
    sh.go();
    while (Number(read(cg, 'memory.current')) < 4 << 20) await new Promise((r) => setTimeout(r, 50));
    expect(() => cg.apply({ memory: { limit: 1 << 20, checkBeforeUpdate: true } })).toThrow(/below the current usage/);
    expect(read(cg, 'memory.max')).toBe(String(64 << 20));
    cg.apply({ memory: { limit: 48 << 20, checkBeforeUpdate: true }, pids: { limit: 7 } });
    expect(read(cg, 'memory.max')).toBe(String(48 << 20));
    expect(read(cg, 'pids.max')).toBe('7');
    await cg.kill();
  });

  it('leaves nothing behind when applying fails (no such RDMA device)', () => {
    expect(() => Cgroup.create('/tsrunc-vm-none/x', { resources: { rdma: { mlx5_0: { hcaHandles: 1 } } } })).toThrow(/rdma/);
    expect(existsSync('/sys/fs/cgroup/tsrunc-vm-none')).toBe(false);
  });
});
