// Stats: containerd's io.containerd.cgroups.v2.Metrics from the container's cgroup files, as the
// cgroups v2 library containerd's runc shim uses reads them (uint64 counters kept exact as bigints).
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import path from 'node:path';
import { readOptional } from '../../runtime/cgroups/fsutil';
import { MemoryStatSchema, MetricsSchema, type IOEntry, IOEntrySchema } from '../proto/gen/io/containerd/cgroups/v2/metrics_pb';

const U64_MAX = 18446744073709551615n;

function big(v: string | undefined): bigint {
  try {
    return v === undefined ? 0n : v.trim() === 'max' ? U64_MAX : BigInt(v.trim());
  } catch {
    return 0n;
  }
}

/** "key value" lines as exact numbers. */
function keyValues(text: string | undefined): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, big(v));
  }
  return m;
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const MEMORY_FIELDS = new Set(MemoryStatSchema.fields.map((f) => f.localName));

/**
 * Reads the cgroup at `dir`; files of controllers that are not enabled give zeros. `read` defaults to the
 * checked cgroupfs reader (files beneath the cgroup2 mount only); tests pass plain files.
 */
export function cgroupMetrics(dir: string, read: (name: string) => string | undefined = (name) => readOptional(path.join(dir, name))) {
  const f = read;
  const cpu = keyValues(f('cpu.stat'));
  const mem = keyValues(f('memory.stat'));
  const memory: Record<string, bigint> = {};
  for (const [k, v] of mem) if (MEMORY_FIELDS.has(camel(k))) memory[camel(k)] = v;
  const events = keyValues(f('memory.events'));
  const io: IOEntry[] = [];
  for (const line of (f('io.stat') ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = new Map(kvs.map((s) => s.split('=') as [string, string]));
    io.push(create(IOEntrySchema, { major: BigInt(m[1]!), minor: BigInt(m[2]!), rbytes: big(kv.get('rbytes')), wbytes: big(kv.get('wbytes')), rios: big(kv.get('rios')), wios: big(kv.get('wios')) }));
  }
  return create(MetricsSchema, {
    pids: { current: big(f('pids.current')), limit: f('pids.max')?.trim() === 'max' ? 0n : big(f('pids.max')) },
    cpu: {
      usageUsec: cpu.get('usage_usec') ?? 0n,
      userUsec: cpu.get('user_usec') ?? 0n,
      systemUsec: cpu.get('system_usec') ?? 0n,
      nrPeriods: cpu.get('nr_periods') ?? 0n,
      nrThrottled: cpu.get('nr_throttled') ?? 0n,
      throttledUsec: cpu.get('throttled_usec') ?? 0n,
    },
    memory: {
      ...memory,
      usage: big(f('memory.current')),
      usageLimit: big(f('memory.max')),
      swapUsage: big(f('memory.swap.current')),
      swapLimit: big(f('memory.swap.max')),
    },
    memoryEvents: { low: events.get('low') ?? 0n, high: events.get('high') ?? 0n, max: events.get('max') ?? 0n, oom: events.get('oom') ?? 0n, oomKill: events.get('oom_kill') ?? 0n },
    io: { usage: io },
    hugetlb: [],
  });
}

/** The Any containerd's `ctr task metrics` unpacks (typeurl: the bare message name). */
export function metricsAny(dir: string): Any {
  return create(AnySchema, { typeUrl: 'io.containerd.cgroups.v2.Metrics', value: toBinary(MetricsSchema, cgroupMetrics(dir)) });
}
