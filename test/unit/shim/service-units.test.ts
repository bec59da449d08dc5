// Pure parts of the shim's service side: flags as containerd passes them, stdio URIs, grouping, options,
// rootfs mount checks, and the cgroup v2 Metrics read from cgroup files.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, test } from 'vitest';
import { parseShimFlags } from '../../../src/shim/service/flags';
import { parseStdio } from '../../../src/shim/io/uri';
import { groupOf } from '../../../src/shim/service/cmd-start';
import { shimConfig, stateRoot, DEFAULT_ROOT } from '../../../src/shim/service/options';
import { checkRootfsMounts } from '../../../src/shim/mount';
import { cgroupMetrics } from '../../../src/shim/service/metrics';
import { OptionsSchema } from '../../../src/shim/proto';
import { ConfigError } from '../../../src/runtime/errors';

describe('shim flags', () => {
  test('containerd 1.6 start and delete command lines', () => {
    expect(parseShimFlags(['-namespace', 'k8s.io', '-address', '/run/containerd/containerd.sock', '-publish-binary', '/usr/bin/containerd', '-id', 'abc', '-debug', 'start'])).toMatchObject({
      namespace: 'k8s.io', address: '/run/containerd/containerd.sock', publishBinary: '/usr/bin/containerd', id: 'abc', debug: true, action: 'start',
    });
    expect(parseShimFlags(['-namespace=ns', '--id', 'x', '-bundle', '/b', 'delete'])).toMatchObject({ namespace: 'ns', id: 'x', bundle: '/b', action: 'delete', debug: false });
    expect(parseShimFlags(['-v']).version).toBe(true);
    expect(parseShimFlags(['-namespace', 'n', '-id', 'i']).action).toBe('');
  });

  test('an unknown flag or a missing value is one clear error', () => {
    expect(() => parseShimFlags(['-bogus', 'start'])).toThrow(/-bogus: flag provided but not defined/);
    expect(() => parseShimFlags(['-id'])).toThrow(/-id: flag needs an argument/);
  });
});

describe('stdio strings', () => {
  test('fifo paths, file:// and binary:// (query -> arguments)', () => {
    expect(parseStdio('', 'stdout')).toEqual({ kind: 'none' });
    expect(parseStdio('/run/containerd/fifo/1/x-stdout', 'stdout')).toEqual({ kind: 'path', path: '/run/containerd/fifo/1/x-stdout' });
    expect(parseStdio('file:///var/log/c%201.log', 'stdout')).toEqual({ kind: 'file', path: '/var/log/c 1.log' });
    expect(parseStdio('binary:///usr/bin/logger?tag=web&debug', 'stdout')).toEqual({ kind: 'binary', path: '/usr/bin/logger', args: ['tag', 'web', 'debug', ''] });
  });

  test('relative paths, .. and unknown schemes are refused with the field named', () => {
    expect(() => parseStdio('fifo', 'stdin')).toThrow(ConfigError);
    expect(() => parseStdio('/a/../etc/passwd', 'stdout')).toThrow(/stdout: .*\.\./);
    expect(() => parseStdio('http://x/y', 'stderr')).toThrow(/stderr: unsupported stdio scheme http:/);
  });
});

describe('grouping', () => {
  test('by sandbox id (or runc\'s group annotation), else the container; or the namespace', () => {
    expect(groupOf('c1', {}, 'sandbox')).toBe('c1');
    expect(groupOf('c1', { 'io.kubernetes.cri.sandbox-id': 'pod' }, 'sandbox')).toBe('pod');
    expect(groupOf('c1', { 'io.containerd.runc.v2.group': 'g', 'io.kubernetes.cri.sandbox-id': 'pod' }, 'sandbox')).toBe('g');
    expect(groupOf('c1', { 'io.kubernetes.cri.sandbox-id': 'pod' }, 'namespace')).toBe(groupOf('c2', undefined, 'namespace'));
  });
});

describe('options', () => {
  const runtimeOptions = (configPath: string, body = '') => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).string('');
    if (configPath) w.tag(2, WireType.LengthDelimited).string(configPath);
    if (body) w.tag(3, WireType.LengthDelimited).string(body);
    return create(AnySchema, { typeUrl: 'runtimeoptions.v1.Options', value: w.finish() });
  };

  test('defaults, runc Options root, runtimeoptions config file and body', () => {
    expect(shimConfig(undefined)).toEqual({ root: DEFAULT_ROOT, group: 'sandbox' });
    const runc = create(AnySchema, { typeUrl: 'containerd.runc.v1.Options', value: toBinary(OptionsSchema, create(OptionsSchema, { root: '/r' })) });
    expect(shimConfig(runc).root).toBe('/r');
    expect(stateRoot(shimConfig(runc), 'k8s.io')).toBe('/r/k8s.io');
    const dir = mkdtempSync(join(tmpdir(), 'shim-opts-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ group: 'namespace', root: '/s' }));
      expect(shimConfig(runtimeOptions(join(dir, 'c.json')))).toEqual({ root: '/s', group: 'namespace' });
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(shimConfig(runtimeOptions('', '{"group":"namespace"}')).group).toBe('namespace');
  });

  test('a bad config names the file and the key', () => {
    expect(() => shimConfig(runtimeOptions('', '{"group":"pod"}'))).toThrow(/options.config_body: group: must be "sandbox" or "namespace"/);
    expect(() => shimConfig(runtimeOptions('', '{"root":"rel"}'))).toThrow(/root: must be an absolute path/);
    expect(() => shimConfig(runtimeOptions('', 'nope'))).toThrow(/options.config_body: not JSON/);
  });
});

describe('rootfs mounts', () => {
  test('overlay and bind from a snapshotter pass; odd types, relative sources and .. do not', () => {
    expect(() => checkRootfsMounts([{ type: 'overlay', source: 'overlay', options: ['index=off', 'workdir=/s/1/work', 'upperdir=/s/1/fs', 'lowerdir=/s/2/fs:/s/3/fs'] }])).not.toThrow();
    expect(() => checkRootfsMounts([{ type: 'bind', source: '/s/1/fs', options: ['rbind', 'rw'] }])).not.toThrow();
    expect(() => checkRootfsMounts([{ type: 'nfs', source: '/x', options: [] }])).toThrow(/rootfs\[0\]\.type/);
    expect(() => checkRootfsMounts([{ type: 'bind', source: 'rel', options: [] }])).toThrow(/rootfs\[0\]\.source/);
    expect(() => checkRootfsMounts([{ type: 'overlay', source: 'overlay', options: ['lowerdir=/s/../../etc'] }])).toThrow(/rootfs\[0\]\.options/);
    expect(() => checkRootfsMounts([{ type: 'overlay', source: 'overlay', options: ['upperdir=/a,lowerdir=/b'] }])).toThrow(/invalid mount option/);
  });
});

describe('Stats', () => {
  test('cgroup v2 files -> Metrics, uint64 exact, "max" as 2^64-1, absent controllers as zeros', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shim-metrics-'));
    try {
      writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1234\nuser_usec 1000\nsystem_usec 234\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n');
      writeFileSync(join(dir, 'memory.stat'), 'anon 4096\nfile 18446744073709551000\nkernel_stack 16384\npgfault 7\nunknown_key 9\n');
      writeFileSync(join(dir, 'memory.current'), '8192\n');
      writeFileSync(join(dir, 'memory.max'), 'max\n');
      writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\n');
      writeFileSync(join(dir, 'pids.current'), '3\n');
      writeFileSync(join(dir, 'io.stat'), '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n');
      const plain = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);
      const m = cgroupMetrics(dir, plain);
      expect(m.cpu).toMatchObject({ usageUsec: 1234n, userUsec: 1000n, systemUsec: 234n });
      expect(m.memory).toMatchObject({ anon: 4096n, file: 18446744073709551000n, kernelStack: 16384n, pgfault: 7n, usage: 8192n, usageLimit: 18446744073709551615n, swapUsage: 0n });
      expect(m.memoryEvents).toMatchObject({ high: 1n, max: 2n, oom: 3n, oomKill: 4n });
      expect(m.pids).toMatchObject({ current: 3n, limit: 0n });
      expect(m.io?.usage).toHaveLength(1);
      expect(m.io?.usage[0]).toMatchObject({ major: 8n, minor: 0n, rbytes: 10n, wbytes: 20n, rios: 1n, wios: 2n });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
