import fs from 'node:fs';
import { native } from '../native';
import type { ContainerRecord } from '../state/record';
import { recordCgroupHandle } from './record-cgroup';
import { containerMembers } from '../cgroups/members';
import type { CgroupHandle } from '../cgroups/handle';
import { killPidfdAndWait } from '../pidfd';
import { killInit, parseSignal, runningRecord, signalInit } from './signal';

export { parseSignal, signalInit } from './signal';

export interface KillOptions {
  all?: boolean;
}

/** `kill`: a signal to the init (or every process of the container with `all`). */
export function kill(root: string, id: string, signal: string | number | undefined, opts: KillOptions = {}): void {
  if (!opts.all) return killInit(root, id, signal);
  const sig = parseSignal(signal);
  const record = runningRecord(root, id);
  // The cgroup (mountinfo, checked opens) only for --all.
  if (!record.ownPidNamespace) {
    const cgroup = recordCgroupHandle(record);
    if (cgroup) {
      for (const pid of cgroupMembers(record, cgroup)) signalPid(pid, sig);
      return;
    }
  }
  signalInit(record, sig);
}

/**
 * The container's processes found through its cgroup (`kill --all`): every one of a cgroup tsrunc made;
 * of a pre-existing one (linux.cgroupsPath), which may hold the host's too, only the container's.
 */
export function cgroupMembers(record: ContainerRecord, cgroup: CgroupHandle): number[] {
  return cgroup.ownsDir ? cgroup.pids() : containerMembers(cgroup.pids(), record.pid);
}

function signalPid(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // exited meanwhile
  }
}

/** SIGKILL a process and wait until it is gone (reaping it when it is our child). */
export async function killAndWait(pid: number): Promise<void> {
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(pid);
  } catch {
    return; // already gone
  }
  try {
    await killPidfdAndWait(pidfd);
  } finally {
    fs.closeSync(pidfd);
  }
}
