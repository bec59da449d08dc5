import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIoStat, readStats, statsJson } from '../../../src/runtime/cgroups/stats';

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files: Record<string, string> = {
  'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n',
  'memory.current': '4096\n',
  'memory.max': '1048576\n',
  'memory.peak': '8192\n',
  'memory.swap.current': '100\n',
  'memory.swap.max': 'max\n',
  'memory.stat': 'anon 1000\nfile 2000\n',
  'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
  'pids.current': '4\n',
  'pids.max': 'max\n',
  'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=0 rios=1 wios=0\n',
  'hugetlb.2MB.current': '0\n',
  'hugetlb.2MB.events': 'max 0\n',
};
for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);

describe('stats', () => {
  it('reads runc\'s events --stats shape', () => {
    const s = readStats(dir);
    expect(s.cpu).toEqual({
      usage: { total: 1_500_000, kernel: 500_000, user: 1_000_000 },
      throttling: { periods: 10, throttledPeriods: 2, throttledTime: 300_000 },
    });
    expect(s.memory.usage).toEqual({ limit: 1048576, usage: 4096, max: 8192, failcnt: 3 });
    expect(s.memory.swap).toEqual({ limit: 18446744073709551615n, usage: 4196, failcnt: 0 });
    expect(s.memory.cache).toBe(2000);
    expect(s.memory.raw).toEqual({ anon: 1000, file: 2000 });
    expect(s.pids).toEqual({ current: 4 });
    expect(s.blkio.ioServiceBytesRecursive).toEqual([
      { major: 8, op: 'Read', value: 100 },
      { major: 8, op: 'Write', value: 200 },
      { major: 253, minor: 1, op: 'Read', value: 5 },
      { major: 253, minor: 1, op: 'Write' },
    ]);
    expect(s.hugetlb).toEqual({ '2MB': { failcnt: 0 } });
  });
  it('prints unlimited as uint64 max in JSON', () => {
    const json = statsJson({ limit: 18446744073709551615n, n: 1 });
    expect(json).toBe('{"limit":18446744073709551615,"n":1}');
  });
  it('parses an empty io.stat', () => {
    expect(parseIoStat('')).toEqual({});
  });
});
