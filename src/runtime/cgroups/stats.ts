// Cgroup v2 statistics in the JSON shape of `runc events --stats` (runc's types.Stats): field names,
// units (cpu in ns) and omitted zero fields as runc prints them. "max" limits become 2^64-1.
import { posix } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { parseKeyValues } from './fsutil';
import { errnoCode } from '../errors';

/** Reads a file of the cgroup by name; undefined when it does not exist. */
export type CgroupReader = (name: string) => string | undefined;

/** uint64 values that do not fit a double exactly (unlimited = 2^64-1) are bigints. */
export type U64 = number | bigint;
export const U64_MAX = 18446744073709551615n;

export interface MemoryEntry {
  limit: U64;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

export interface Stats {
  cpu: {
    usage: { total?: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  memory: { cache?: number; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

/** Drop undefined and zero fields (Go's omitempty on numbers, slices and maps), except `always`. */
function omitEmpty<T extends object>(o: T, always: string[] = []): T {
  for (const [k, v] of Object.entries(o)) {
    if (always.includes(k)) continue;
    if (v === undefined || v === 0 || (Array.isArray(v) && !v.length)) delete (o as Record<string, unknown>)[k];
  }
  return o;
}

function num(text: string | undefined): number {
  const n = Number((text ?? '').trim());
  return Number.isFinite(n) ? n : 0;
}

/** A limit file: a number, or "max" -> 2^64-1; absent -> 0. */
function limit(text: string | undefined): U64 {
  if (text === undefined) return 0;
  return text.trim() === 'max' ? U64_MAX : num(text);
}

function cpuStats(read: CgroupReader): Stats['cpu'] {
  const s = parseKeyValues(read('cpu.stat'));
  const us = (k: string) => (s.get(k) ?? 0) * 1000;
  return {
    usage: omitEmpty({ total: us('usage_usec'), kernel: us('system_usec'), user: us('user_usec') }, ['kernel', 'user']),
    throttling: omitEmpty({ periods: s.get('nr_periods'), throttledPeriods: s.get('nr_throttled'), throttledTime: us('throttled_usec') }),
  };
}

const ENTRY = ['limit', 'failcnt']; // memoryEntry fields runc always prints

function memoryStats(f: CgroupReader): Stats['memory'] {
  const raw = Object.fromEntries(parseKeyValues(f('memory.stat')));
  const events = parseKeyValues(f('memory.events'));
  const usage = num(f('memory.current'));
  const memLimit = limit(f('memory.max'));
  const swapLimit = limit(f('memory.swap.max'));
  // like runc on v2: "swap" is memory+swap, as v1 reported it
  const swapTotal = typeof swapLimit === 'bigint' || typeof memLimit === 'bigint' ? U64_MAX : swapLimit + memLimit;
  const zero: MemoryEntry = { limit: 0, failcnt: 0 };
  return omitEmpty({
    cache: raw.file,
    usage: omitEmpty({ limit: memLimit, usage, max: num(f('memory.peak')), failcnt: events.get('max') ?? 0 }, ENTRY),
    swap: omitEmpty({ limit: swapTotal, usage: usage + num(f('memory.swap.current')), failcnt: 0 }, ENTRY),
    kernel: { ...zero },
    kernelTCP: { ...zero },
    raw: Object.keys(raw).length ? raw : undefined,
  }, ['usage', 'swap', 'kernel', 'kernelTCP']) as Stats['memory'];
}

function pidsStats(read: CgroupReader): Stats['pids'] {
  const max = limit(read('pids.max'));
  return omitEmpty({ current: num(read('pids.current')), limit: typeof max === 'bigint' ? 0 : max });
}

/** io.stat lines "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." -> runc's Read/Write entries. */
export function parseIoStat(text: string | undefined): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    if (!dev || !dev.includes(':')) continue;
    const [major, minor] = dev.split(':').map(Number);
    const kv = new Map(kvs.map((s) => s.split('=') as [string, string]));
    const add = (list: BlkioEntry[], key: string, op: string) => {
      if (kv.has(key)) list.push(omitEmpty({ major, minor, op, value: Number(kv.get(key)) }));
    };
    add(bytes, 'rbytes', 'Read');
    add(bytes, 'wbytes', 'Write');
    add(ios, 'rios', 'Read');
    add(ios, 'wios', 'Write');
  }
  return omitEmpty({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios });
}

function hugetlbStats(dir: string, read: CgroupReader): Stats['hugetlb'] {
  const out: Stats['hugetlb'] = {};
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^hugetlb\.([^.]+)\.current$/.exec(n);
    if (!m) continue;
    const events = parseKeyValues(read(`hugetlb.${m[1]}.events`));
    out[m[1]] = omitEmpty({ usage: num(read(n)), failcnt: events.get('max') ?? 0 }, ['failcnt']);
  }
  return out;
}

/**
 * Read every statistic of the cgroup at `dir`; controllers that are not enabled give zeros. `read`
 * defaults to plain files (tests); Cgroup passes its checked cgroupfs reader.
 */
export function readStats(dir: string, read: CgroupReader = (n) => readPlain(posix.join(dir, n))): Stats {
  return {
    cpu: cpuStats(read),
    memory: memoryStats(read),
    pids: pidsStats(read),
    blkio: parseIoStat(read('io.stat')),
    hugetlb: hugetlbStats(dir, read),
  };
}

function readPlain(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** JSON text of `value` with bigints printed as plain integers (Go's uint64). */
export function statsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `\u0000u64:${v}` : v)).replace(/"\\u0000u64:(\d+)"/g, '$1');
}
