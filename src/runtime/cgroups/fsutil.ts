// Synchronous helpers for cgroupfs files (kernfs: no O_CREAT, some files are write-only). Paths may come
// from state.json, which is untrusted: every cgroup file is opened beneath the cgroup2 mount with
// openat2 (no "..", no symlink, no other mount) and must be on a cgroup2 filesystem.
import { closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode, RuntimeError } from '../errors';
import { native } from '../native';
import { cgroup2Mount, type MountInfo } from './mountinfo';

export const CGROUP2_SUPER_MAGIC = 0x63677270;
// RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH
const RESOLVE_CGROUP = 0x01 | 0x02 | 0x04 | 0x08;

let mountFd: { mountPoint: string; fd: number } | undefined;

/** An O_PATH fd of the cgroup2 mount point, checked to be cgroup2 (cached for the process). */
function cgroupMountFd(mount: MountInfo): number {
  if (mountFd?.mountPoint === mount.mountPoint) return mountFd.fd;
  const fd = openSync(mount.mountPoint, constants.O_RDONLY | constants.O_DIRECTORY);
  if (native().fstatfsType(fd) !== CGROUP2_SUPER_MAGIC) {
    closeSync(fd);
    throw new RuntimeError(`${mount.mountPoint} is not a cgroup2 filesystem`);
  }
  if (mountFd) closeSync(mountFd.fd);
  mountFd = { mountPoint: mount.mountPoint, fd };
  return fd;
}

function notCgroupFile(path: string, cause?: unknown): RuntimeError {
  const err = new RuntimeError(`${path}: not a cgroup file`, cause ? { cause } : undefined);
  (err as NodeJS.ErrnoException).code = 'EXDEV';
  return err;
}

/**
 * Opens `path` (absolute, below the cgroup2 mount) with `flags`: resolved beneath the mount without
 * symlinks or mount crossings, and checked to be on cgroupfs. ENOENT and EACCES keep their codes.
 */
export function openCgroupFile(path: string, flags: number, mount: MountInfo = cgroup2Mount()): number {
  const rel = posix.relative(mount.mountPoint, path);
  if (!path.startsWith('/') || rel.startsWith('..') || posix.isAbsolute(rel)) throw notCgroupFile(path);
  let fd: number;
  try {
    fd = native().openat2(cgroupMountFd(mount), rel || '.', flags, RESOLVE_CGROUP);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EXDEV' || code === 'ELOOP') throw notCgroupFile(path, e);
    const err = new Error(`${(e as Error).message}`, { cause: e }) as NodeJS.ErrnoException;
    err.code = code;
    throw err;
  }
  if (native().fstatfsType(fd) !== CGROUP2_SUPER_MAGIC) {
    closeSync(fd);
    throw notCgroupFile(path);
  }
  return fd;
}

/** Write `value` to an existing cgroup file in one write(2), as the kernel expects. */
export function writeCgroupFile(path: string, value: string): void {
  const fd = openCgroupFile(path, constants.O_WRONLY);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

export function readCgroupFile(path: string): string {
  const fd = openCgroupFile(path, constants.O_RDONLY);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** A cgroup file's text, or undefined when it does not exist. */
export function readOptional(path: string): string | undefined {
  try {
    return readCgroupFile(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** The inode of a cgroup directory (its cgroup id), or undefined when it does not exist. */
export function cgroupInode(dir: string): number | undefined {
  let fd: number;
  try {
    fd = openCgroupFile(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return fstatSync(fd).ino;
  } finally {
    closeSync(fd);
  }
}

/** "key value" lines (cpu.stat, memory.stat, cgroup.events, ...) as a map of numbers. */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

/** Whether the cgroup at `dir` is frozen (cgroup.events). Here, not on Cgroup: `state` needs only this. */
export function cgroupFrozen(dir: string): boolean {
  return parseKeyValues(readCgroupFile(`${dir}/cgroup.events`)).get('frozen') === 1;
}
