import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/bundle/spec';
import { validateConfig } from '../../../src/runtime/config/validate';

describe('defaultSpec', () => {
  it('is a valid config, like runc spec', () => {
    const spec = defaultSpec();
    expect(() => validateConfig(spec)).not.toThrow();
    expect(spec.ociVersion).toBe('1.3.0');
    expect(spec.process?.terminal).toBe(true);
    expect(spec.process?.args).toEqual(['sh']);
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.process?.capabilities?.bounding).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(spec.process?.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    expect(spec.mounts?.map((m) => m.destination)).toEqual([
      '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup',
    ]);
    expect(spec.linux?.namespaces?.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(spec.linux?.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux?.readonlyPaths).toContain('/proc/sys');
  });

  it('takes args and returns independent objects', () => {
    const a = defaultSpec({ args: ['echo', 'hi'] });
    const b = defaultSpec();
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    a.mounts![0]!.destination = '/x';
    expect(a.process?.args).toEqual(['echo', 'hi']);
    expect(b.process?.capabilities?.bounding).toHaveLength(3);
    expect(b.mounts![0]!.destination).toBe('/proc');
  });

  it('rootless: user namespace mapping the caller, no network namespace, /sys bound, no gid= options', () => {
    const spec = defaultSpec({ rootless: true });
    expect(() => validateConfig(spec)).not.toThrow();
    const types = spec.linux!.namespaces!.map((n) => n.type);
    expect(types).toContain('user');
    expect(types).not.toContain('network');
    expect(spec.linux!.uidMappings).toEqual([{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
    expect(spec.linux!.gidMappings).toEqual([{ containerID: 0, hostID: process.getegid!(), size: 1 }]);
    const sys = spec.mounts!.find((m) => m.destination === '/sys')!;
    expect(sys.options).toContain('rbind');
    expect(sys.options).toContain('ro');
    expect(sys.source).toBe('/sys');
    expect(spec.mounts!.find((m) => m.destination === '/sys/fs/cgroup')).toBeUndefined();
    const pts = spec.mounts!.find((m) => m.destination === '/dev/pts')!;
    expect(pts.options!.some((o) => o.startsWith('gid='))).toBe(false);
    expect(spec.linux!.resources).toBeUndefined();
  });
});
