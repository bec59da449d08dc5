// OCI linux.resources -> the cgroup v2 file writes that apply them. Pure: no file system access.
import { ConfigError } from '../errors';
import type { BlockIOResources, CpuResources, LinuxResources, MemoryResources, ThrottleDevice } from './types';

/** One write to a file of the container's cgroup directory. */
export interface CgroupWrite {
  file: string;
  value: string;
  /** Written instead when `file` does not exist (io.bfq.weight -> io.weight). */
  fallback?: { file: string; value: string };
  /** Refuse the write when this file's current number is larger than `value` (memory checkBeforeUpdate). */
  notBelow?: string;
  /** The file may be absent (swap accounting off): then skip the write. */
  ignoreMissing?: boolean;
}

const MAX = 'max';
const KNOWN_CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'];
/** cgroup.* files that `unified` may set; the rest would move processes or change the tree's shape. */
const UNIFIED_CGROUP_FILES = new Set(['cgroup.max.depth', 'cgroup.max.descendants']);

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function needInt(v: unknown, where: string): number {
  if (!isInt(v)) throw new ConfigError(where, `must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A limit where -1 means unlimited and 0 means unset (runc's v1-compatible reading). */
function limitValue(v: number | undefined, where: string): string | undefined {
  if (v === undefined || v === 0) return undefined;
  needInt(v, where);
  if (v === -1) return MAX;
  if (v < 0) throw new ConfigError(where, `must be positive or -1 (unlimited), got ${v}`);
  return String(v);
}

/**
 * OCI swap is memory+swap (v1); v2's memory.swap.max is swap alone (runc's conversion).
 * Returns the number for memory.swap.max, -1 for max, or 0 for "leave alone".
 */
export function swapToV2(swap: number, limit: number, where: string): number {
  if (limit === -1 && swap === 0) return -1; // "memory unlimited" means swap unlimited too
  if (swap === -1 || swap === 0) return swap;
  if (swap < 0) throw new ConfigError(where, `must be positive or -1 (unlimited), got ${swap}`);
  if (limit === 0 || limit === -1) throw new ConfigError(where, 'a swap limit needs a memory limit (memory.limit)');
  if (swap < limit) throw new ConfigError(where, `memory+swap limit ${swap} is below the memory limit ${limit}`);
  return swap - limit;
}

/** cgroup v1 cpu.shares [2, 262144] -> v2 cpu.weight [1, 10000] (runc's current quadratic-in-log2 mapping). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio weight [10, 1000] -> io.weight [1, 10000] (runc's linear mapping). */
export function blkioWeightToIoWeight(w: number): number {
  if (w === 0) return 0;
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/** cpuset list syntax: "0-3,5,7-8" (ascending ranges). Empty means unset. */
export function isCpusetList(s: string): boolean {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s)) return false;
  return s.split(',').every((r) => {
    const [a, b] = r.split('-').map(Number);
    return b === undefined || a <= b;
  });
}

function memoryWrites(m: MemoryResources, w: string): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const limit = m.limit ?? 0;
  const limitStr = limitValue(m.limit, `${w}.limit`);
  if (m.swap !== undefined || limit === -1) {
    const swap = swapToV2(needInt(m.swap ?? 0, `${w}.swap`), limit, `${w}.swap`);
    // swap == limit means "no swap": write 0, which also 'unset' would otherwise skip
    // "max" and "0" need not exist without swap accounting (runc skips them too)
    if (swap === -1) out.push({ file: 'memory.swap.max', value: MAX, ignoreMissing: true });
    else if (swap > 0) out.push({ file: 'memory.swap.max', value: String(swap) });
    else if ((m.swap ?? 0) > 0) out.push({ file: 'memory.swap.max', value: '0', ignoreMissing: true });
  }
  if (limitStr) {
    const wr: CgroupWrite = { file: 'memory.max', value: limitStr };
    if (m.checkBeforeUpdate && limitStr !== MAX) wr.notBelow = 'memory.current';
    out.push(wr);
  }
  const low = limitValue(m.reservation, `${w}.reservation`);
  if (low) out.push({ file: 'memory.low', value: low });
  if (m.swappiness !== undefined && m.swappiness !== null) {
    const s = needInt(m.swappiness, `${w}.swappiness`);
    if (s < 0 || s > 100) throw new ConfigError(`${w}.swappiness`, `must be in [0, 100], got ${s}`);
    // v2 has no per-cgroup swappiness; 0 is accepted (engines send it as "default"), others are refused
    if (s !== 0) throw new ConfigError(`${w}.swappiness`, 'not supported on cgroup v2 (no per-cgroup swappiness)');
  }
  // kernel, kernelTCP, useHierarchy, disableOOMKiller: no v2 equivalent (kernel memory is always
  // accounted in memory.max; the OOM killer cannot be disabled per cgroup): ignored like runc does.
  return out;
}

function cpuMaxValue(c: CpuResources, w: string): string | undefined {
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (quota === 0 && period === 0) return undefined;
  needInt(quota, `${w}.quota`);
  needInt(period, `${w}.period`);
  if (quota < -1) throw new ConfigError(`${w}.quota`, `must be positive or -1 (unlimited), got ${quota}`);
  if (period < 0) throw new ConfigError(`${w}.period`, `must be positive, got ${period}`);
  const q = quota > 0 ? String(quota) : MAX;
  return period > 0 ? `${q} ${period}` : q;
}

function cpuWrites(c: CpuResources, w: string): CgroupWrite[] {
  if (c.realtimeRuntime || c.realtimePeriod) {
    const where = c.realtimeRuntime ? `${w}.realtimeRuntime` : `${w}.realtimePeriod`;
    throw new ConfigError(where, 'realtime scheduling limits are not supported on cgroup v2');
  }
  const out: CgroupWrite[] = [];
  if (c.shares) {
    const s = needInt(c.shares, `${w}.shares`);
    if (s < 0) throw new ConfigError(`${w}.shares`, `must be positive, got ${s}`);
    out.push({ file: 'cpu.weight', value: String(sharesToWeight(s)) });
  }
  const max = cpuMaxValue(c, w);
  if (max) out.push({ file: 'cpu.max', value: max });
  if (c.burst !== undefined) {
    const b = needInt(c.burst, `${w}.burst`);
    if (b < 0) throw new ConfigError(`${w}.burst`, `must not be negative, got ${b}`);
    out.push({ file: 'cpu.max.burst', value: String(b) });
  }
  if (c.idle !== undefined) {
    const i = needInt(c.idle, `${w}.idle`);
    if (i !== 0 && i !== 1) throw new ConfigError(`${w}.idle`, `must be 0 or 1, got ${i}`);
    out.push({ file: 'cpu.idle', value: String(i) });
  }
  for (const key of ['cpus', 'mems'] as const) {
    const v = c[key];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || !isCpusetList(v)) {
      throw new ConfigError(`${w}.${key}`, `invalid list ${JSON.stringify(v)} (expected e.g. "0-3,5")`);
    }
    out.push({ file: `cpuset.${key}`, value: v });
  }
  return out;
}

function devNum(d: { major: number; minor: number }, where: string): string {
  const ma = needInt(d.major, `${where}.major`);
  const mi = needInt(d.minor, `${where}.minor`);
  if (ma < 0) throw new ConfigError(`${where}.major`, `must not be negative, got ${ma}`);
  if (mi < 0) throw new ConfigError(`${where}.minor`, `must not be negative, got ${mi}`);
  return `${ma}:${mi}`;
}

const THROTTLES: [keyof BlockIOResources, string][] = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
];

function weightWrite(weight: number, where: string, dev?: string): CgroupWrite {
  needInt(weight, where);
  if (weight < 10 || weight > 1000) throw new ConfigError(where, `must be in [10, 1000], got ${weight}`);
  const pre = dev ? `${dev} ` : '';
  const io = blkioWeightToIoWeight(weight);
  // BFQ takes the v1 range directly; without BFQ use io.weight (runc does the same)
  return { file: 'io.bfq.weight', value: `${pre}${weight}`, fallback: { file: 'io.weight', value: `${pre}${io}` } };
}

function blockIOWrites(b: BlockIOResources, w: string): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  if (b.weight) out.push(weightWrite(b.weight, `${w}.weight`));
  (b.weightDevice ?? []).forEach((d, i) => {
    const where = `${w}.weightDevice[${i}]`;
    const dev = devNum(d, where);
    if (d.weight) out.push(weightWrite(d.weight, `${where}.weight`, dev));
  });
  // leafWeight has no v2 counterpart: ignored
  const perDevice = new Map<string, string[]>();
  for (const [key, name] of THROTTLES) {
    ((b[key] as ThrottleDevice[] | undefined) ?? []).forEach((d, i) => {
      const where = `${w}.${key}[${i}]`;
      const dev = devNum(d, where);
      const rate = needInt(d.rate, `${where}.rate`);
      if (rate < 0) throw new ConfigError(`${where}.rate`, `must not be negative, got ${rate}`);
      const list = perDevice.get(dev) ?? [];
      list.push(`${name}=${rate === 0 ? MAX : rate}`); // 0 removes the limit, as in v1
      perDevice.set(dev, list);
    });
  }
  for (const [dev, kv] of perDevice) out.push({ file: 'io.max', value: `${dev} ${kv.join(' ')}` });
  return out;
}

function hugetlbWrites(list: NonNullable<LinuxResources['hugepageLimits']>, w: string): CgroupWrite[] {
  return list.map((h, i) => {
    if (typeof h.pageSize !== 'string' || !/^\d+[KMG]B$/.test(h.pageSize)) {
      throw new ConfigError(`${w}[${i}].pageSize`, `invalid page size ${JSON.stringify(h.pageSize)} (expected e.g. "2MB")`);
    }
    const limit = needInt(h.limit, `${w}[${i}].limit`);
    if (limit < 0) throw new ConfigError(`${w}[${i}].limit`, `must not be negative, got ${limit}`);
    return { file: `hugetlb.${h.pageSize}.max`, value: String(limit) };
  });
}

function rdmaWrites(rdma: NonNullable<LinuxResources['rdma']>, w: string): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  for (const [dev, lim] of Object.entries(rdma)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(dev)) throw new ConfigError(`${w}.${dev}`, 'invalid RDMA device name');
    const kv: string[] = [];
    for (const [key, name] of [['hcaHandles', 'hca_handle'], ['hcaObjects', 'hca_object']] as const) {
      const v = lim[key];
      if (v === undefined) continue;
      if (needInt(v, `${w}.${dev}.${key}`) < 0) throw new ConfigError(`${w}.${dev}.${key}`, 'must not be negative');
      kv.push(`${name}=${v}`);
    }
    if (kv.length) out.push({ file: 'rdma.max', value: `${dev} ${kv.join(' ')}` });
  }
  return out;
}

function unifiedWrites(u: Record<string, string>, w: string): CgroupWrite[] {
  return Object.entries(u).map(([key, value]) => {
    const where = `${w}["${key}"]`;
    if (!/^[a-z_]+\.[A-Za-z0-9_.-]+$/.test(key) || key.includes('..')) {
      throw new ConfigError(where, 'a key must be a cgroup file name like "memory.high"');
    }
    if (key.startsWith('cgroup.') && !UNIFIED_CGROUP_FILES.has(key)) {
      throw new ConfigError(where, `${key} may not be set through unified`);
    }
    if (typeof value !== 'string') throw new ConfigError(where, 'the value must be a string');
    return { file: key, value };
  });
}

function isEmpty(o: object | undefined): boolean {
  return !o || Object.keys(o).length === 0;
}

/** Every write that applies `r` (devices excluded: they are an eBPF program, see devices.ts). */
export function resourceWrites(r: LinuxResources | undefined, where = 'linux.resources'): CgroupWrite[] {
  if (!r) return [];
  const out: CgroupWrite[] = [];
  if (!isEmpty(r.memory)) out.push(...memoryWrites(r.memory!, `${where}.memory`));
  if (!isEmpty(r.cpu)) out.push(...cpuWrites(r.cpu!, `${where}.cpu`));
  if (r.pids && r.pids.limit !== undefined) {
    const l = needInt(r.pids.limit, `${where}.pids.limit`);
    // 0 means unset, as in runc (Podman sends it for "no limit"); negative means max.
    if (l !== 0) out.push({ file: 'pids.max', value: l > 0 ? String(l) : MAX });
  }
  if (!isEmpty(r.blockIO)) out.push(...blockIOWrites(r.blockIO!, `${where}.blockIO`));
  if (r.hugepageLimits?.length) out.push(...hugetlbWrites(r.hugepageLimits, `${where}.hugepageLimits`));
  if (!isEmpty(r.rdma)) out.push(...rdmaWrites(r.rdma!, `${where}.rdma`));
  // network (net_cls/net_prio) exists only on v1: ignored, as runc does on v2
  if (!isEmpty(r.unified)) out.push(...unifiedWrites(r.unified!, `${where}.unified`));
  return out;
}

/** The controller a cgroup file belongs to, or undefined for core files (cgroup.*). */
export function controllerOf(file: string): string | undefined {
  const c = file.slice(0, file.indexOf('.'));
  return KNOWN_CONTROLLERS.includes(c) ? c : undefined;
}

/** Controllers that must be enabled for `r` to apply (validates `r` like resourceWrites). */
export function requiredControllers(r: LinuxResources | undefined, where = 'linux.resources'): string[] {
  const set = new Set<string>();
  for (const w of resourceWrites(r, where)) {
    const c = controllerOf(w.file);
    if (c) set.add(c);
  }
  return KNOWN_CONTROLLERS.filter((c) => set.has(c));
}
