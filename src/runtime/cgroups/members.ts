// Which processes of a cgroup tsrunc did not make belong to the container. A pre-existing cgroup (given by
// linux.cgroupsPath) may also hold the host's processes, which `kill --all` must not reach.
import { readFileSync, readlinkSync } from 'node:fs';

/**
 * The processes among `pids` (a cgroup's) that are the container's, whose init is `init`:
 * - the init has a mount namespace other than ours (its own, or one it joined): every process in that
 *   namespace, which includes exec'd processes and daemons that left the init's tree;
 * - it runs in ours: only the init and its descendants (the parent links, read from /proc).
 * Nothing when the init is gone.
 */
export function containerMembers(pids: number[], init: number): number[] {
  const initMnt = nsLink(init, 'mnt');
  if (initMnt === undefined) return [];
  if (initMnt !== nsLink('self', 'mnt')) return pids.filter((pid) => nsLink(pid, 'mnt') === initMnt);
  const parent = new Map<number, number>();
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid !== undefined) parent.set(pid, ppid);
  }
  const members = new Set<number>([init]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  return pids.filter((pid) => members.has(pid));
}

function nsLink(pid: number | 'self', ns: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined; // exited
  }
}

/** The parent pid from /proc/<pid>/stat (after the command, which may contain spaces and parentheses). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isSafeInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}
