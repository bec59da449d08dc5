import { describe, expect, it } from 'vitest';
import {
  MOUNT_ATTR_IDMAP, MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, MS_BIND, MS_DIRSYNC,
  MS_MANDLOCK, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC,
  MS_RELATIME, MS_REMOUNT, MS_SHARED, MS_SLAVE, MS_STRICTATIME, MS_SYNCHRONOUS, MS_UNBINDABLE,
  isKnownMountOption, parseMountOptions,
} from '../../../src/runtime/config/mount-options';
import { ConfigError } from '../../../src/runtime/errors';

describe('mount flag values', () => {
  it('match linux/mount.h', () => {
    expect([MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS, MS_REMOUNT, MS_MANDLOCK, MS_DIRSYNC]).toEqual([
      1, 2, 4, 8, 16, 32, 64, 128,
    ]);
    expect([MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC]).toEqual([1024, 2048, 4096, 16384]);
    expect([MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_RELATIME, MS_STRICTATIME]).toEqual([
      1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 24,
    ]);
    expect([MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC]).toEqual([1, 2, 4, 8]);
    expect([MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_IDMAP]).toEqual([
      0x70, 0x10, 0x20, 0x80, 0x100000,
    ]);
  });
});

describe('parseMountOptions', () => {
  const flagCases: [string[], number, number][] = [
    [[], 0, 0],
    [['defaults'], 0, 0],
    [['ro'], MS_RDONLY, 0],
    [['rw'], 0, MS_RDONLY],
    [['ro', 'rw'], 0, MS_RDONLY],
    [['rw', 'ro'], MS_RDONLY, 0],
    [['nosuid', 'nodev', 'noexec'], MS_NOSUID | MS_NODEV | MS_NOEXEC, 0],
    [['suid', 'dev', 'exec'], 0, MS_NOSUID | MS_NODEV | MS_NOEXEC],
    [['sync'], MS_SYNCHRONOUS, 0],
    [['async'], 0, MS_SYNCHRONOUS],
    [['dirsync'], MS_DIRSYNC, 0],
    [['remount'], MS_REMOUNT, 0],
    [['mand'], MS_MANDLOCK, 0],
    [['nomand'], 0, MS_MANDLOCK],
    [['noatime'], MS_NOATIME, 0],
    [['atime'], 0, MS_NOATIME],
    [['nodiratime'], MS_NODIRATIME, 0],
    [['diratime'], 0, MS_NODIRATIME],
    [['relatime'], MS_RELATIME, 0],
    [['norelatime'], 0, MS_RELATIME],
    [['strictatime'], MS_STRICTATIME, 0],
    [['nostrictatime'], 0, MS_STRICTATIME],
    [['bind'], MS_BIND, 0],
    [['rbind'], MS_BIND | MS_REC, 0],
  ];
  it.each(flagCases)('%j -> flags %i, clear %i', (opts, flags, clear) => {
    const o = parseMountOptions(opts, 'mounts[0]');
    expect(o.flags).toBe(flags);
    expect(o.clearFlags).toBe(clear);
    expect(o.data).toBe('');
  });

  const propagationCases: [string, number][] = [
    ['shared', MS_SHARED],
    ['rshared', MS_SHARED | MS_REC],
    ['slave', MS_SLAVE],
    ['rslave', MS_SLAVE | MS_REC],
    ['private', MS_PRIVATE],
    ['rprivate', MS_PRIVATE | MS_REC],
    ['unbindable', MS_UNBINDABLE],
    ['runbindable', MS_UNBINDABLE | MS_REC],
  ];
  it.each(propagationCases)('%s -> propagation %i', (opt, prop) => {
    const o = parseMountOptions([opt], 'mounts[0]');
    expect(o.propagation).toBe(prop);
    expect(o.flags).toBe(0);
  });
  it('the last propagation wins', () => {
    expect(parseMountOptions(['rshared', 'private'], 'm').propagation).toBe(MS_PRIVATE);
  });

  const attrCases: [string[], number, number][] = [
    [['rro'], MOUNT_ATTR_RDONLY, 0],
    [['rrw'], 0, MOUNT_ATTR_RDONLY],
    [['rro', 'rrw'], 0, MOUNT_ATTR_RDONLY],
    [['rrw', 'rro'], MOUNT_ATTR_RDONLY, 0],
    [['rnosuid', 'rnodev', 'rnoexec'], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0],
    [['rsuid', 'rdev', 'rexec'], 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC],
    [['rnodiratime'], MOUNT_ATTR_NODIRATIME, 0],
    [['rdiratime'], 0, MOUNT_ATTR_NODIRATIME],
    [['rrelatime'], 0, MOUNT_ATTR__ATIME],
    [['rnoatime'], MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME],
    [['rstrictatime'], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME],
    [['ratime'], 0, MOUNT_ATTR__ATIME],
    [['rnoatime', 'rstrictatime'], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME],
    [['rnoatime', 'ratime'], 0, MOUNT_ATTR__ATIME],
    [['rnostrictatime'], 0, MOUNT_ATTR__ATIME],
    [['rnorelatime'], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME],
  ];
  it.each(attrCases)('%j -> attrSet %i, attrClr %i', (opts, set, clr) => {
    const o = parseMountOptions(opts, 'mounts[0]');
    expect(o.attrSet).toBe(set);
    expect(o.attrClr).toBe(clr);
    expect(o.recursive).toBe(true);
    expect(o.flags).toBe(0);
  });

  it('plain options are not recursive', () => {
    expect(parseMountOptions(['ro', 'nosuid'], 'm').recursive).toBe(false);
  });

  it('bind and rbind', () => {
    const b = parseMountOptions(['bind', 'ro'], 'm');
    expect([b.bind, b.rbind, b.flags]).toEqual([true, false, MS_BIND | MS_RDONLY]);
    const r = parseMountOptions(['rbind', 'rro', 'rprivate'], 'm');
    expect([r.bind, r.rbind, r.flags, r.attrSet, r.propagation]).toEqual([
      true, true, MS_BIND | MS_REC, MOUNT_ATTR_RDONLY, MS_PRIVATE | MS_REC,
    ]);
  });

  it('idmap and ridmap', () => {
    expect(parseMountOptions(['bind', 'idmap'], 'm')).toMatchObject({ idmap: true, idmapRecursive: false });
    expect(parseMountOptions(['rbind', 'ridmap'], 'm')).toMatchObject({ idmap: true, idmapRecursive: true });
    expect(parseMountOptions(['bind'], 'm')).toMatchObject({ idmap: false, idmapRecursive: false });
  });

  it('filesystem options become data, in order', () => {
    const o = parseMountOptions(['nosuid', 'mode=755', 'strictatime', 'size=65536k', 'newinstance'], 'mounts[1]', 'tmpfs');
    expect(o.data).toBe('mode=755,size=65536k,newinstance');
    expect(o.flags).toBe(MS_NOSUID | MS_STRICTATIME);
  });

  it('filesystem data on a bind mount is accepted and dropped, as mount(2) ignores it with MS_BIND (runc)', () => {
    const o = parseMountOptions(['bind', 'mode=755', 'ro'], 'mounts[2]');
    expect([o.bind, o.flags, o.data]).toEqual([true, MS_BIND | MS_RDONLY, '']);
    expect(parseMountOptions(['ro', 'foo'], 'mounts[2]', 'bind').data).toBe('');
  });

  it('tmpcopyup is refused', () => {
    expect(() => parseMountOptions(['tmpcopyup'], 'mounts[3]', 'tmpfs')).toThrow(/^mounts\[3\]\.options\[0\]: .*not supported/);
  });

  it('isKnownMountOption', () => {
    for (const o of ['ro', 'rbind', 'rro', 'rnoatime', 'rslave', 'idmap', 'defaults']) expect(isKnownMountOption(o)).toBe(true);
    for (const o of ['size=1', 'mode=755', 'tmpcopyup', 'foo']) expect(isKnownMountOption(o)).toBe(false);
  });
});
