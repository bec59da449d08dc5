// Snapshots of what a container runtime can leave behind on the host: mounts, cgroups, processes and
// state directories. The global teardown compares a snapshot taken after the run with one taken before.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Mount, readMountinfo } from '../helpers/mountinfo';

export const STATE_PARENT = '/run';
export const STATE_PREFIX = 'tsrunc-test';

export { cgroup2Mount, readMountinfo, type MountLine } from '../helpers/mountinfo';

/** Directories named *tsrunc* anywhere in the cgroup2 hierarchy (the v1 hierarchies are never used). */
export function tsruncCgroups(): string[] {
  const top = cgroup2Mount();
  if (!top) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed while walking
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name.includes('tsrunc')) found.push(p);
      if (depth < 8) walk(p, depth + 1);
    }
  };
  walk(top, 0);
  return found;
}

export interface ProcInfo {
  pid: number;
  startTime: string;
  cmdline: string;
  /** Why this process looks like a container process, or '' if it does not. */
  reason: string;
}

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function linkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** Every process with a hint of being a container process (own pid/mount namespace, chroot, tsrunc cgroup or binary). */
export function listProcesses(): ProcInfo[] {
  const self = { pid: linkOr('/proc/self/ns/pid'), mnt: linkOr('/proc/self/ns/mnt') };
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readOr(`/proc/${pid}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue; // zombies hold nothing but a pid
    const startTime = fields[19];
    const cmdline = readOr(`/proc/${pid}/cmdline`).replace(/\0/g, ' ').trim();
    const reasons: string[] = [];
    // A private mount namespace alone is not a container (engine harnesses use one); a different
    // root, or a new pid namespace together with a new mount namespace, is.
    const pidns = linkOr(`/proc/${pid}/ns/pid`);
    const mntns = linkOr(`/proc/${pid}/ns/mnt`);
    if (pidns && pidns !== self.pid && mntns && mntns !== self.mnt) reasons.push('own pid and mount namespaces');
    const root = linkOr(`/proc/${pid}/root`);
    if (root && root !== '/') reasons.push(`root ${root}`);
    if (readOr(`/proc/${pid}/cgroup`).includes('tsrunc')) reasons.push('tsrunc cgroup');
    if (/tsrunc\.cjs|tsrunc-init/.test(cmdline) && !cmdline.includes('vitest')) reasons.push('tsrunc process');
    out.push({ pid, startTime, cmdline, reason: reasons.join(', ') });
  }
  return out;
}

/** State roots made by test helpers: /run/tsrunc-test*. */
export function stateDirs(): string[] {
  return readdirSync(STATE_PARENT)
    .filter((n) => n.startsWith(STATE_PREFIX))
    .map((n) => join(STATE_PARENT, n))
    .filter((p) => {
      try {
        return statSync(p).isDirectory();
      } catch {
        return false;
      }
    });
}

export interface Snapshot {
  mounts: Set<string>;
  cgroups: Set<string>;
  procs: Set<string>; // "pid:starttime"
  stateDirs: Set<string>;
}

export function snapshot(): Snapshot {
  return {
    mounts: new Set(readMountinfo().map((m) => m.line)),
    cgroups: new Set(tsruncCgroups()),
    procs: new Set(listProcesses().map((p) => `${p.pid}:${p.startTime}`)),
    stateDirs: new Set(stateDirs()),
  };
}

/**
 * Describes everything that appeared since `before` and belongs to tsrunc; empty when clean.
 * TSRUNC_TEST_LEAK_IGNORE (a regular expression) drops matching lines, e.g. 'tsrunc-eng-' while the
 * engine suite runs at the same time on a shared machine.
 */
export function leaksSince(before: Snapshot): string[] {
  const ignore = process.env.TSRUNC_TEST_LEAK_IGNORE ? new RegExp(process.env.TSRUNC_TEST_LEAK_IGNORE) : undefined;
  return findLeaks(before).filter((l) => !ignore?.test(l));
}

function findLeaks(before: Snapshot): string[] {
  const leaks: string[] = [];
  for (const m of readMountinfo()) {
    if (!before.mounts.has(m.line) && m.mountPoint.includes('tsrunc')) leaks.push(`mount ${m.mountPoint} (${m.fsType})`);
  }
  for (const c of tsruncCgroups()) if (!before.cgroups.has(c)) leaks.push(`cgroup ${c}`);
  for (const p of listProcesses()) {
    if (p.reason && !before.procs.has(`${p.pid}:${p.startTime}`) && p.pid !== process.pid) {
      leaks.push(`process ${p.pid} [${p.reason}]: ${p.cmdline.slice(0, 160)}`);
    }
  }
  for (const d of stateDirs()) if (!before.stateDirs.has(d)) leaks.push(`state dir ${d}`);
  return leaks;
}
