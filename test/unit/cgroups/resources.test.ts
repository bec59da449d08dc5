import { describe, expect, it } from 'vitest';
import {
  blkioWeightToIoWeight,
  isCpusetList,
  requiredControllers,
  resourceWrites,
  sharesToWeight,
  swapToV2,
} from '../../../src/runtime/cgroups/resources';
import type { LinuxResources } from '../../../src/runtime/cgroups/types';
import { ConfigError } from '../../../src/runtime/errors';

const plain = (r: LinuxResources) => resourceWrites(r).map((w) => `${w.file}=${w.value}`);

describe('conversions', () => {
  it('cpu shares -> weight (runc: 2->1, 1024->100, 262144->10000, quadratic in log2)', () => {
    expect([0, 1, 2, 1024, 262144, 300000].map(sharesToWeight)).toEqual([0, 1, 1, 100, 10000, 10000]);
    expect(sharesToWeight(512)).toBe(Math.ceil(10 ** ((81 + 125 * 9) / 612 - 7 / 34)));
    expect(sharesToWeight(2048)).toBeGreaterThan(100);
  });
  it('blkio weight -> io.weight', () => {
    expect([0, 10, 500, 1000].map(blkioWeightToIoWeight)).toEqual([0, 1, 4950, 10000]);
  });
  it('swap (memory+swap) -> memory.swap.max', () => {
    expect(swapToV2(0, -1, 'w')).toBe(-1);
    expect(swapToV2(-1, 100, 'w')).toBe(-1);
    expect(swapToV2(300, 100, 'w')).toBe(200);
    expect(swapToV2(100, 100, 'w')).toBe(0);
    expect(() => swapToV2(50, 100, 'w')).toThrow(/below the memory limit/);
    expect(() => swapToV2(50, 0, 'w')).toThrow(/needs a memory limit/);
  });
  it('cpuset lists', () => {
    for (const ok of ['0', '0-3', '0-3,5,7-8', '12']) expect(isCpusetList(ok)).toBe(true);
    for (const bad of ['', '3-1', '0,', 'a', '0-', '1 2', '-1']) expect(isCpusetList(bad)).toBe(false);
  });
});

describe('resourceWrites', () => {
  it('writes nothing and needs no controller for empty objects', () => {
    const r: LinuxResources = { memory: {}, cpu: {}, blockIO: {}, devices: [{ allow: false, access: 'rwm' }] };
    expect(resourceWrites(r)).toEqual([]);
    expect(requiredControllers(r)).toEqual([]);
    expect(resourceWrites(undefined)).toEqual([]);
  });
  it('memory', () => {
    expect(plain({ memory: { limit: 1 << 20, reservation: 1 << 19, swap: 3 << 20 } })).toEqual([
      'memory.swap.max=2097152',
      'memory.max=1048576',
      'memory.low=524288',
    ]);
    expect(plain({ memory: { limit: -1 } })).toEqual(['memory.swap.max=max', 'memory.max=max']);
    expect(plain({ memory: { limit: 100, swap: 100 } })).toEqual(['memory.swap.max=0', 'memory.max=100']);
    expect(plain({ memory: { limit: 100, swap: -1 } })).toEqual(['memory.swap.max=max', 'memory.max=100']);
    // v1-only knobs are ignored; swappiness 0 is accepted
    expect(plain({ memory: { kernel: 5, kernelTCP: 5, disableOOMKiller: true, swappiness: 0 } })).toEqual([]);
    const [w] = resourceWrites({ memory: { limit: 100, checkBeforeUpdate: true } });
    expect(w).toEqual({ file: 'memory.max', value: '100', notBelow: 'memory.current' });
  });
  it('cpu', () => {
    expect(plain({ cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 0, cpus: '0-1', mems: '0' } })).toEqual([
      'cpu.weight=100',
      'cpu.max=50000 100000',
      'cpu.max.burst=1000',
      'cpu.idle=0',
      'cpuset.cpus=0-1',
      'cpuset.mems=0',
    ]);
    expect(plain({ cpu: { quota: -1, period: 20000 } })).toEqual(['cpu.max=max 20000']);
    expect(plain({ cpu: { quota: 30000 } })).toEqual(['cpu.max=30000']);
    expect(plain({ cpu: { cpus: '' } })).toEqual([]);
  });
  it('pids', () => {
    expect(plain({ pids: { limit: 10 } })).toEqual(['pids.max=10']);
    expect(plain({ pids: { limit: 0 } })).toEqual([]); // unset, as in runc (Podman's "no limit")
    expect(plain({ pids: { limit: -1 } })).toEqual(['pids.max=max']);
  });
  it('blockIO', () => {
    const w = resourceWrites({
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }, { major: 8, minor: 16, rate: 0 }],
      },
    });
    expect(w).toEqual([
      { file: 'io.bfq.weight', value: '500', fallback: { file: 'io.weight', value: '4950' } },
      { file: 'io.bfq.weight', value: '8:0 100', fallback: { file: 'io.weight', value: '8:0 910' } },
      { file: 'io.max', value: '8:0 rbps=1000 wiops=10' },
      { file: 'io.max', value: '8:16 wiops=max' },
    ]);
  });
  it('hugetlb, rdma, unified', () => {
    expect(plain({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] })).toEqual(['hugetlb.2MB.max=4194304']);
    expect(plain({ rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 1000 } } })).toEqual(['rdma.max=mlx5_1 hca_handle=3 hca_object=1000']);
    expect(plain({ unified: { 'memory.high': '1000000', 'cgroup.max.depth': '3' } })).toEqual([
      'memory.high=1000000',
      'cgroup.max.depth=3',
    ]);
  });
  it('required controllers', () => {
    expect(
      requiredControllers({
        memory: { limit: 100 },
        pids: { limit: 5 },
        cpu: { cpus: '0' },
        blockIO: { weight: 100 },
        unified: { 'cgroup.max.depth': '2', 'misc.max': 'x 1' },
      }),
    ).toEqual(['cpuset', 'io', 'memory', 'pids', 'misc']);
    expect(requiredControllers({ cpu: { shares: 2 } })).toEqual(['cpu']);
  });
});

describe('resourceWrites errors name the JSON path', () => {
  const cases: [LinuxResources, string][] = [
    [{ memory: { limit: -2 } }, 'linux.resources.memory.limit'],
    [{ memory: { limit: 1.5 } }, 'linux.resources.memory.limit'],
    [{ memory: { reservation: -5 } }, 'linux.resources.memory.reservation'],
    [{ memory: { limit: 100, swap: 50 } }, 'linux.resources.memory.swap'],
    [{ memory: { swap: 50 } }, 'linux.resources.memory.swap'],
    [{ memory: { limit: 100, swap: -3 } }, 'linux.resources.memory.swap'],
    [{ memory: { swappiness: 60 } }, 'linux.resources.memory.swappiness'],
    [{ memory: { swappiness: 101 } }, 'linux.resources.memory.swappiness'],
    [{ cpu: { quota: -5 } }, 'linux.resources.cpu.quota'],
    [{ cpu: { period: -5 } }, 'linux.resources.cpu.period'],
    [{ cpu: { shares: -1 } }, 'linux.resources.cpu.shares'],
    [{ cpu: { burst: -1 } }, 'linux.resources.cpu.burst'],
    [{ cpu: { idle: 2 } }, 'linux.resources.cpu.idle'],
    [{ cpu: { cpus: '0-' } }, 'linux.resources.cpu.cpus'],
    [{ cpu: { mems: '3-1' } }, 'linux.resources.cpu.mems'],
    [{ cpu: { realtimeRuntime: 100 } }, 'linux.resources.cpu.realtimeRuntime'],
    [{ cpu: { realtimePeriod: 100 } }, 'linux.resources.cpu.realtimePeriod'],
    [{ pids: { limit: 1.5 } }, 'linux.resources.pids.limit'],
    [{ blockIO: { weight: 5 } }, 'linux.resources.blockIO.weight'],
    [{ blockIO: { weightDevice: [{ major: -1, minor: 0, weight: 100 }] } }, 'linux.resources.blockIO.weightDevice[0].major'],
    [{ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } }, 'linux.resources.blockIO.weightDevice[0].weight'],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }, { major: 8, minor: 0, rate: -1 }] } }, 'linux.resources.blockIO.throttleReadBpsDevice[1].rate'],
    [{ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, 'linux.resources.hugepageLimits[0].pageSize'],
    [{ hugepageLimits: [{ pageSize: '2MB', limit: -1 }] }, 'linux.resources.hugepageLimits[0].limit'],
    [{ rdma: { 'bad/dev': { hcaHandles: 1 } } }, 'linux.resources.rdma.bad/dev'],
    [{ unified: { 'cgroup.procs': '1' } }, 'linux.resources.unified["cgroup.procs"]'],
    [{ unified: { 'cgroup.subtree_control': '+memory' } }, 'linux.resources.unified["cgroup.subtree_control"]'],
    [{ unified: { '../memory.max': '1' } }, 'linux.resources.unified["../memory.max"]'],
    [{ unified: { 'memory/max': '1' } }, 'linux.resources.unified["memory/max"]'],
    [{ unified: { memory: '1' } }, 'linux.resources.unified["memory"]'],
    [{ unified: { 'memory..max': '1' } }, 'linux.resources.unified["memory..max"]'],
  ];
  it.each(cases)('%j -> %s', (r, where) => {
    let err: unknown;
    try {
      resourceWrites(r);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).where).toBe(where);
    expect((err as Error).message.startsWith(`${where}: `)).toBe(true);
  });
  it('uses the caller\'s where', () => {
    expect(() => resourceWrites({ memory: { limit: -2 } }, 'resources')).toThrow(/^resources\.memory\.limit: /);
  });
});
