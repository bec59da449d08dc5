import { readFileSync } from 'node:fs';
import { RuntimeError } from '../errors';
import { native } from '../native';

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

/** One mountinfo line's fields we use, or undefined when malformed (no separator, too few fields). */
function parseLine(line: string): MountInfo | undefined {
  const fields = line.split(' ');
  const sep = fields.indexOf('-', 6); // optional fields end at the lone '-'
  if (sep < 0 || fields.length < sep + 3) return undefined;
  return { root: unescapeMountField(fields[3]!), mountPoint: unescapeMountField(fields[4]!), fsType: fields[sep + 1]! };
}

/** Parse mountinfo text; malformed lines are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const m = parseLine(line);
    if (m) out.push(m);
  }
  return out;
}

/*
 * A node's mountinfo grows with its containers (an overlay each, thousands on a busy one), and create,
 * delete and the shim read it per container: the scans below find the few lines that matter with one
 * regular expression over the whole text (a native scan) and split only those. They rely on the kernel's
 * escaping (mangle() of " \t\n\\" in fs/proc_namespace.c): a raw field holds no space or newline, and '/'
 * is never escaped, so raw paths compare, and cut at '/', as the decoded ones do.
 */

/** The line of `text` around index `i`: [start, end). */
function lineAt(text: string, i: number): [number, number] {
  const end = text.indexOf('\n', i);
  return [text.lastIndexOf('\n', i) + 1, end < 0 ? text.length : end];
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A line's fields 1-4, then field 5 (the mount point) as `mountPoint` (a regex source), from a line start. */
const mountPointIs = (mountPoint: string) => new RegExp(`^([^ \n]+) (?:[^ \n]+ ){3}${mountPoint}`, 'gm');

/** Whether a well-formed line after index `from` mounts on one of the raw mount points `raws`. */
function mountedAfter(text: string, from: number, raws: string[]): boolean {
  const re = mountPointIs(`(?:${raws.map(reEscape).join('|')}) `);
  re.lastIndex = from;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [start, end] = lineAt(text, m.index);
    if (parseLine(text.slice(start, end))) return true;
  }
  return false;
}

/**
 * The first visible cgroup2 mount in `text` (mountinfo format), or undefined: one not covered by a
 * later mount on or above its mount point (a private namespace may mount cgroup2 over /sys/fs/cgroup,
 * hiding the host's /sys/fs/cgroup/unified, which mountinfo still lists).
 */
export function findCgroup2Mount(text: string): MountInfo | undefined {
  for (let at = text.indexOf(' - cgroup2 '); at >= 0; at = text.indexOf(' - cgroup2 ', at + 1)) {
    const [start, end] = lineAt(text, at);
    const line = text.slice(start, end);
    const m = parseLine(line);
    if (m?.fsType !== 'cgroup2') continue;
    // the mount point and every directory above it (a relative one, only itself)
    const raws = [line.split(' ', 5)[4]!];
    for (let p = raws[0]!; p.lastIndexOf('/') >= 0 && p !== '/'; ) raws.push((p = p.slice(0, p.lastIndexOf('/')) || '/'));
    if (!mountedAfter(text, end, raws)) return m;
  }
  return undefined;
}

/** A path as mountinfo writes it (octal escapes for space, tab, newline and backslash). */
export function escapeMountField(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The mounts (id, decoded mount point) at `path` or below it, in mountinfo order. */
export function mountsAtOrUnder(text: string, path: string): { id: number; mountPoint: string }[] {
  const out: { id: number; mountPoint: string }[] = [];
  // the path itself, or a path below it, as the whole field 5
  const re = mountPointIs(`(${reEscape(escapeMountField(path))}(?:/[^ \n]*)?)(?=[ \n]|$)`);
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ id: Number(m[1]), mountPoint: unescapeMountField(m[2]!) });
  return out;
}

let cached: MountInfo | undefined;

/** The cgroup2 mount of this process (cached). Throws when the machine has none. */
export function cgroup2Mount(): MountInfo {
  if (cached) return cached;
  const m = usualCgroup2Mount() ?? findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!m) throw new RuntimeError('no cgroup2 filesystem is mounted (see /proc/self/mountinfo)');
  cached = m;
  return m;
}

/** Where cgroup2 is mounted on unified hosts, then on hybrid ones (runc looks only at the first). */
const USUAL_CGROUP2 = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

/**
 * The hierarchy's root directory at a usual place (so the mount's root is '/'), found without reading
 * mountinfo: its read and scan cost a cold CLI ~0.4 ms of create, exec and delete. Elsewhere (a cgroup
 * namespace's mount, an unusual mount point) mountinfo decides.
 */
export function usualCgroup2Mount(): MountInfo | undefined {
  const mountPoint = USUAL_CGROUP2.find((p) => native().isCgroup2Root(p));
  return mountPoint ? { root: '/', mountPoint, fsType: 'cgroup2' } : undefined;
}
