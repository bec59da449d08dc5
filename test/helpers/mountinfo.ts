// The one mountinfo parser of the tests (host and container /proc/<pid>/mountinfo alike). No imports:
// test/setup/leaks.ts uses it too.
import { readFileSync } from 'node:fs';

export interface MountLine {
  mountId: number;
  parentId: number;
  /** The path inside the mounted filesystem (for cgroup2: the cgroup at the mount point). */
  root: string;
  mountPoint: string;
  mountOpts: string[];
  /** Optional fields, e.g. shared:N, master:N. */
  optional: string[];
  fsType: string;
  source: string;
  superOpts: string[];
  /** The raw line (for set comparisons). */
  line: string;
}

/** Undo the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses mountinfo text; lines that are not mountinfo (e.g. other output around it) are skipped. */
export function parseMountinfo(text: string): MountLine[] {
  const out: MountLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f.length < dash + 4 || !/^\d+$/.test(f[0]!)) continue;
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      root: unescapeMountField(f[3]!),
      mountPoint: unescapeMountField(f[4]!),
      mountOpts: f[5]!.split(','),
      optional: f.slice(6, dash),
      fsType: f[dash + 1]!,
      source: unescapeMountField(f[dash + 2]!),
      superOpts: f[dash + 3]!.split(','),
      line,
    });
  }
  return out;
}

export function readMountinfo(pid: number | 'self' = 'self'): MountLine[] {
  return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/**
 * The visible cgroup2 mount point (here /sys/fs/cgroup/unified; /sys/fs/cgroup on a pure v2 host), or
 * undefined: the first cgroup2 mount not covered by a later mount on or above it.
 */
export function cgroup2Mount(pid: number | 'self' = 'self'): string | undefined {
  const mounts = readMountinfo(pid);
  const covers = (later: MountLine, m: MountLine) =>
    later.mountPoint === m.mountPoint || m.mountPoint.startsWith(later.mountPoint === '/' ? '/' : later.mountPoint + '/');
  return mounts.find((m, i) => m.fsType === 'cgroup2' && !mounts.slice(i + 1).some((l) => covers(l, m)))?.mountPoint;
}
