// The rootfs mounts of a CreateTaskRequest (usually one overlay from containerd's snapshotter), mounted
// at <bundle>/rootfs with mount(8) run asynchronously, and unmounted on Delete, `delete` and a failed Create.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, RuntimeError } from '../runtime/errors';

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

/** Mounts `mounts` in order at `rootfs` (created if missing); on failure what was mounted goes again. */
export async function mountRootfs(mounts: RootfsMount[], rootfs: string): Promise<void> {
  if (!mounts.length) return;
  checkRootfsMounts(mounts);
  fs.mkdirSync(rootfs, { recursive: true, mode: 0o711 });
  try {
    for (const m of mounts) {
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

/** Unmounts everything at `rootfs` (stacked mounts too); a path with nothing mounted is fine. */
export async function unmountRootfs(rootfs: string): Promise<void> {
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
