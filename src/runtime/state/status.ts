import fs from 'node:fs';
import path from 'node:path';
import { cgroupFrozen } from '../cgroups/fsutil';
import { cgroupDir } from '../cgroups/path';
import type { ContainerRecord, Status } from './record';
import { START_SOCKET } from './store';

/** Start time of a live (non-zombie) process in clock ticks, or null when there is none. */
export function processStartTime(pid: number): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may contain spaces and parentheses: fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return Number(fields[19]);
}

/** Whether the init has gone (or its pid is someone else's now): `stopped`, from the process itself. */
export function initGone(record: ContainerRecord): boolean {
  return record.pid <= 0 || processStartTime(record.pid) !== record.pidStartTime;
}

/** The status is derived from the init process itself, never trusted from disk. */
export function containerStatus(record: ContainerRecord, dir: string): Status {
  if (initGone(record)) return 'stopped';
  if (fs.existsSync(path.join(dir, START_SOCKET))) return 'created';
  // state.json is untrusted: cgroupDir checks the path, readCgroupFile opens beneath the cgroup2 mount
  if (record.cgroupPath && cgroupFrozen(cgroupDir(record.cgroupPath))) return 'paused';
  return 'running';
}
