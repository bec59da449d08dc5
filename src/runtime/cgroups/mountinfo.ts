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

/** The first cgroup2 mount in `text` (mountinfo format), or undefined. */
export function findCgroup2Mount(text: string): MountInfo | undefined {
  return parseMountInfo(text).find((m) => m.fsType === 'cgroup2');
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
