// The rootfs mounts of a CreateTaskRequest (usually one overlay from containerd's snapshotter), mounted
// at <bundle>/rootfs with mount(2) through the addon (mount(8), run asynchronously, where the addon has
// no mount), and unmounted on Delete, `delete` and a failed Create.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, RuntimeError } from '../runtime/errors';
import { native } from '../runtime/native';

export interface RootfsMount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

/** Filesystem types a snapshotter hands out; anything else is refused. */
const TYPES = new Set(['overlay', 'bind', 'rbind', 'tmpfs', 'ext4', 'xfs', 'btrfs', 'none']);

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }, (err, _out, stderr) => {
      if (err) reject(new RuntimeError(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Checks every mount as runc's shim would take it: a known type, absolute paths, no `..`. */
export function checkRootfsMounts(mounts: RootfsMount[]): void {
  mounts.forEach((m, i) => {
    const where = `rootfs[${i}]`;
    if (!TYPES.has(m.type)) throw new ConfigError(`${where}.type`, `unsupported rootfs mount type ${JSON.stringify(m.type)}`);
    if (m.type !== 'overlay' && m.type !== 'tmpfs' && m.type !== 'none' && !path.isAbsolute(m.source))
      throw new ConfigError(`${where}.source`, `rootfs mount source ${JSON.stringify(m.source)} is not absolute`);
    for (const o of m.options) {
      if (o.includes(',') || o.includes('\0')) throw new ConfigError(`${where}.options`, `invalid mount option ${JSON.stringify(o)}`);
      const dirs = /^(lowerdir|upperdir|workdir)=(.*)$/.exec(o);
      if (dirs && dirs[2]!.split(':').some((d) => !path.isAbsolute(d) || d.split('/').includes('..')))
        throw new ConfigError(`${where}.options`, `overlay directory in ${JSON.stringify(o)} is not an absolute clean path`);
    }
  });
}

const MS_RDONLY = 1;
const MS_REMOUNT = 32;
const MS_BIND = 4096;
const MS_REC = 16384;
/** mount(8)'s flag options: [sets the flag, flag]. Anything else is filesystem data. */
const FLAGS: Record<string, [boolean, number]> = {
  ro: [true, MS_RDONLY], rw: [false, MS_RDONLY], nosuid: [true, 2], suid: [false, 2], nodev: [true, 4], dev: [false, 4],
  noexec: [true, 8], exec: [false, 8], sync: [true, 16], async: [false, 16], dirsync: [true, 128], noatime: [true, 1024],
  atime: [false, 1024], nodiratime: [true, 2048], diratime: [false, 2048], relatime: [true, 1 << 21], norelatime: [false, 1 << 21],
  strictatime: [true, 1 << 24], bind: [true, MS_BIND], rbind: [true, MS_BIND | MS_REC], defaults: [false, 0],
};

/** One mount through mount(2): flags and data split as mount(8) does; a read-only bind is remounted. */
function mountSyscall(m: RootfsMount, target: string, mount: NonNullable<ReturnType<typeof native>['mount']>): void {
  let flags = 0;
  const data: string[] = [];
  for (const o of m.options) {
    const f = FLAGS[o];
    if (!f) data.push(o);
    else if (f[0]) flags |= f[1];
    else flags &= ~f[1];
  }
  if (m.type === 'bind') flags |= MS_BIND;
  if (m.type === 'rbind') flags |= MS_BIND | MS_REC;
  const bind = (flags & MS_BIND) !== 0;
  mount(m.source, target, bind ? '' : m.type, flags & ~(bind ? MS_RDONLY : 0), data.join(','));
  if (bind && flags & MS_RDONLY) mount('', target, '', (flags & ~MS_REC) | MS_REMOUNT, '');
}

/** Mounts `mounts` in order at `rootfs` (created if missing); on failure what was mounted goes again. */
export async function mountRootfs(mounts: RootfsMount[], rootfs: string): Promise<void> {
  if (!mounts.length) return;
  checkRootfsMounts(mounts);
  fs.mkdirSync(rootfs, { recursive: true, mode: 0o711 });
  try {
    const sys = native().mount;
    for (const m of mounts) {
      if (sys) {
        mountSyscall(m, rootfs, sys);
        continue;
      }
      const bind = m.type === 'bind' || m.type === 'rbind' || m.options.includes('bind') || m.options.includes('rbind');
      const opts = [...m.options];
      if (m.type === 'rbind' && !opts.includes('rbind')) opts.push('rbind');
      if (m.type === 'bind' && !opts.includes('bind') && !opts.includes('rbind')) opts.push('bind');
      const args = bind ? [] : ['-t', m.type];
      if (opts.length) args.push('-o', opts.join(','));
      await run('mount', [...args, '--', m.source, rootfs]);
    }
  } catch (err) {
    await unmountRootfs(rootfs).catch(() => undefined);
    throw err;
  }
}

const MNT_DETACH = 2;
const UMOUNT_NOFOLLOW = 8;
const ENOENT = 2;
const EBUSY = 16;
const EINVAL = 22;

/** Unmounts everything at `rootfs` (stacked mounts too); a path with nothing mounted is fine. */
export async function unmountRootfs(rootfs: string): Promise<void> {
  const umount = native().umount;
  if (umount) {
    // umount2 itself says when nothing is left (EINVAL: not a mount point): no read and parse of
    // /proc/self/mountinfo (which grows with every container) on each Delete.
    for (let i = 0; i < 16; i++) {
      try {
        umount(rootfs, UMOUNT_NOFOLLOW);
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        if (errno === EINVAL || errno === ENOENT) return;
        // Still busy (a process of the container not reaped yet): detach it, it goes with the last user.
        if (errno === EBUSY) umount(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
        else throw err;
      }
    }
    throw new RuntimeError(`cannot unmount ${rootfs}`);
  }
  for (let i = 0; i < 16 && isMountPoint(rootfs); i++) await run('umount', ['--', rootfs]);
  if (isMountPoint(rootfs)) throw new RuntimeError(`cannot unmount ${rootfs}`);
}

/** Whether `p` is a mount point in our mount namespace (mountinfo field 5, octal escapes decoded). */
export function isMountPoint(p: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const want = path.resolve(p);
  return text.split('\n').some((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) === want);
}
