import { ConfigError } from '../errors';

// mount(2) flags (linux/mount.h).
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_POSIXACL = 1 << 16;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_I_VERSION = 1 << 23;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;

// mount_setattr(2) attributes.
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

export interface MountOptions {
  /** MS_* flags to pass to mount(2) (includes MS_BIND, and MS_REC for rbind). */
  flags: number;
  /** MS_* flags an option explicitly turned off (rw, suid, dev, ...): a remount must clear them. */
  clearFlags: number;
  /** One of MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, with MS_REC for the r-variants; 0 = unchanged. */
  propagation: number;
  /** MOUNT_ATTR_* to set/clear with AT_RECURSIVE (rro, rnosuid, ...); an atime change puts _ATIME in attrClr, as the kernel requires. */
  attrSet: number;
  attrClr: number;
  /** Some recursive attribute option (r*) was given: apply attrSet/attrClr with AT_RECURSIVE. */
  recursive: boolean;
  bind: boolean;
  rbind: boolean;
  /** Options the filesystem itself interprets (size=, mode=, ...), joined by ','. */
  data: string;
  /** idmap/ridmap: the mount is id-mapped with the mount's uid/gidMappings (MOUNT_ATTR_IDMAP needs a userns fd, so it is not in attrSet). */
  idmap: boolean;
  idmapRecursive: boolean;
}

interface Flag {
  clear: boolean;
  flag: number;
}

// The vocabulary of runc (and mount(8)); `clear` options undo a flag.
const MS_OPTIONS: Readonly<Record<string, Flag>> = {
  defaults: { clear: false, flag: 0 },
  ro: { clear: false, flag: MS_RDONLY },
  rw: { clear: true, flag: MS_RDONLY },
  nosuid: { clear: false, flag: MS_NOSUID },
  suid: { clear: true, flag: MS_NOSUID },
  nodev: { clear: false, flag: MS_NODEV },
  dev: { clear: true, flag: MS_NODEV },
  noexec: { clear: false, flag: MS_NOEXEC },
  exec: { clear: true, flag: MS_NOEXEC },
  sync: { clear: false, flag: MS_SYNCHRONOUS },
  async: { clear: true, flag: MS_SYNCHRONOUS },
  dirsync: { clear: false, flag: MS_DIRSYNC },
  remount: { clear: false, flag: MS_REMOUNT },
  mand: { clear: false, flag: MS_MANDLOCK },
  nomand: { clear: true, flag: MS_MANDLOCK },
  noatime: { clear: false, flag: MS_NOATIME },
  atime: { clear: true, flag: MS_NOATIME },
  nodiratime: { clear: false, flag: MS_NODIRATIME },
  diratime: { clear: true, flag: MS_NODIRATIME },
  relatime: { clear: false, flag: MS_RELATIME },
  norelatime: { clear: true, flag: MS_RELATIME },
  strictatime: { clear: false, flag: MS_STRICTATIME },
  nostrictatime: { clear: true, flag: MS_STRICTATIME },
  nosymfollow: { clear: false, flag: MS_NOSYMFOLLOW },
  symfollow: { clear: true, flag: MS_NOSYMFOLLOW },
  lazytime: { clear: false, flag: MS_LAZYTIME },
  nolazytime: { clear: true, flag: MS_LAZYTIME },
  iversion: { clear: false, flag: MS_I_VERSION },
  noiversion: { clear: true, flag: MS_I_VERSION },
  acl: { clear: false, flag: MS_POSIXACL },
  noacl: { clear: true, flag: MS_POSIXACL },
  silent: { clear: false, flag: MS_SILENT },
  loud: { clear: true, flag: MS_SILENT },
};

const PROPAGATION: Readonly<Record<string, number>> = {
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

// Recursive attributes (mount_setattr with AT_RECURSIVE).
const ATTR_OPTIONS: Readonly<Record<string, Flag>> = {
  rro: { clear: false, flag: MOUNT_ATTR_RDONLY },
  rrw: { clear: true, flag: MOUNT_ATTR_RDONLY },
  rnosuid: { clear: false, flag: MOUNT_ATTR_NOSUID },
  rsuid: { clear: true, flag: MOUNT_ATTR_NOSUID },
  rnodev: { clear: false, flag: MOUNT_ATTR_NODEV },
  rdev: { clear: true, flag: MOUNT_ATTR_NODEV },
  rnoexec: { clear: false, flag: MOUNT_ATTR_NOEXEC },
  rexec: { clear: true, flag: MOUNT_ATTR_NOEXEC },
  rnodiratime: { clear: false, flag: MOUNT_ATTR_NODIRATIME },
  rdiratime: { clear: true, flag: MOUNT_ATTR_NODIRATIME },
  rnosymfollow: { clear: false, flag: MOUNT_ATTR_NOSYMFOLLOW },
  rsymfollow: { clear: true, flag: MOUNT_ATTR_NOSYMFOLLOW },
};

// The atime mode is an enum inside _ATIME, not bits: each option picks one value.
// Undoing noatime/strictatime means the kernel default (relatime); undoing relatime means strictatime.
const ATIME_OPTIONS: Readonly<Record<string, number>> = {
  rrelatime: MOUNT_ATTR_RELATIME,
  rnoatime: MOUNT_ATTR_NOATIME,
  rstrictatime: MOUNT_ATTR_STRICTATIME,
  ratime: MOUNT_ATTR_RELATIME,
  rnostrictatime: MOUNT_ATTR_RELATIME,
  rnorelatime: MOUNT_ATTR_STRICTATIME,
};

/** Options the runtime itself handles (everything but filesystem data); tmpcopyup is known but unsupported. */
export function isKnownMountOption(o: string): boolean {
  return (
    Object.hasOwn(MS_OPTIONS, o) ||
    Object.hasOwn(PROPAGATION, o) ||
    Object.hasOwn(ATTR_OPTIONS, o) ||
    Object.hasOwn(ATIME_OPTIONS, o) ||
    o === 'bind' ||
    o === 'rbind' ||
    o === 'idmap' ||
    o === 'ridmap'
  );
}

/**
 * Parse an OCI mount's `options`. Later options win over earlier ones. `type` says whether the mount is a
 * bind mount (type "bind" or a bind/rbind option): unknown options of other mounts become `data` for the
 * filesystem (whose errors name them at mount time); a bind mount has no filesystem and drops them.
 */
export function parseMountOptions(options: readonly string[], where: string, type?: string): MountOptions {
  const r: MountOptions = {
    flags: 0,
    clearFlags: 0,
    propagation: 0,
    attrSet: 0,
    attrClr: 0,
    recursive: false,
    bind: false,
    rbind: false,
    data: '',
    idmap: false,
    idmapRecursive: false,
  };
  const isBind = type === 'bind' || options.includes('bind') || options.includes('rbind');
  const data: string[] = [];
  options.forEach((o, i) => {
    const at = `${where}.options[${i}]`;
    if (typeof o !== 'string') throw new ConfigError(at, 'mount option must be a string');
    const ms = Object.hasOwn(MS_OPTIONS, o) ? MS_OPTIONS[o] : undefined;
    if (ms) {
      if (ms.clear) {
        r.flags &= ~ms.flag;
        r.clearFlags |= ms.flag;
      } else {
        r.flags |= ms.flag;
        r.clearFlags &= ~ms.flag;
      }
      return;
    }
    if (o === 'bind' || o === 'rbind') {
      r.bind = true;
      r.flags |= MS_BIND;
      if (o === 'rbind') {
        r.rbind = true;
        r.flags |= MS_REC;
      }
      return;
    }
    if (Object.hasOwn(PROPAGATION, o)) {
      r.propagation = PROPAGATION[o]!;
      return;
    }
    const attr = Object.hasOwn(ATTR_OPTIONS, o) ? ATTR_OPTIONS[o] : undefined;
    if (attr) {
      r.recursive = true;
      if (attr.clear) {
        r.attrSet &= ~attr.flag;
        r.attrClr |= attr.flag;
      } else {
        r.attrSet |= attr.flag;
        r.attrClr &= ~attr.flag;
      }
      return;
    }
    if (Object.hasOwn(ATIME_OPTIONS, o)) {
      r.recursive = true;
      r.attrSet = (r.attrSet & ~MOUNT_ATTR__ATIME) | ATIME_OPTIONS[o]!;
      r.attrClr |= MOUNT_ATTR__ATIME;
      return;
    }
    if (o === 'idmap' || o === 'ridmap') {
      r.idmap = true;
      r.idmapRecursive = o === 'ridmap';
      return;
    }
    if (o === 'tmpcopyup') throw new ConfigError(at, 'mount option "tmpcopyup" is not supported');
    // Anything else is filesystem data, passed on as runc does; a bind mount has no filesystem to take it
    // (mount(2) ignores data with MS_BIND), so `mode=755` on a bind is harmless there.
    if (!isBind) data.push(o);
  });
  r.data = data.join(',');
  return r;
}
