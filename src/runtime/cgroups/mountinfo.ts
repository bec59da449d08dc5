import { readFileSync } from 'node:fs';
import { RuntimeError } from '../errors';

/** One line of /proc/self/mountinfo (only the fields we use). */
export interface MountInfo {
  /** The path inside the filesystem that is mounted (for cgroup2: the cgroup at the mount point). */
  root: string;
  mountPoint: string;
  fsType: string;
}

/** Undo the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse mountinfo text; malformed lines are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6); // optional fields end at the lone '-'
    if (sep < 0 || fields.length < sep + 3) continue;
    out.push({ root: unescapeMountField(fields[3]), mountPoint: unescapeMountField(fields[4]), fsType: fields[sep + 1] });
  }
  return out;
}

/**
 * The first visible cgroup2 mount in `text` (mountinfo format), or undefined: one not covered by a
 * later mount on or above its mount point (a private namespace may mount cgroup2 over /sys/fs/cgroup,
 * hiding the host's /sys/fs/cgroup/unified, which mountinfo still lists).
 */
export function findCgroup2Mount(text: string): MountInfo | undefined {
  const mounts = parseMountInfo(text);
  const covers = (later: MountInfo, m: MountInfo) =>
    later.mountPoint === m.mountPoint || m.mountPoint.startsWith(later.mountPoint === '/' ? '/' : later.mountPoint + '/');
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i]!;
    if (m.fsType === 'cgroup2' && !mounts.slice(i + 1).some((later) => covers(later, m))) return m;
  }
  return undefined;
}

let cached: MountInfo | undefined;

/** The cgroup2 mount of this process (cached). Throws when the machine has none. */
export function cgroup2Mount(): MountInfo {
  if (cached) return cached;
  const m = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!m) throw new RuntimeError('no cgroup2 filesystem is mounted (see /proc/self/mountinfo)');
  cached = m;
  return m;
}
