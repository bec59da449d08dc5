import fs from 'node:fs';
import path from 'node:path';
import { readTextIfPresent } from '../read-if-present';
import type { ContainerRecord } from './record';
import { START_SOCKET } from './store';

/**
 * Start time of a live (non-zombie) process in clock ticks, or null when there is none (delete and state
 * of a stopped container ask about a gone one on every call: not thrown, see read-if-present.ts).
 */
export function processStartTime(pid: number): number | null {
  const stat = readTextIfPresent(`/proc/${pid}/stat`);
  if (stat === undefined) return null;
  // The command name may contain spaces and parentheses: fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return Number(fields[19]);
}

/** Whether the init has gone (or its pid is someone else's now): `stopped`, from the process itself. */
export function initGone(record: ContainerRecord): boolean {
  return record.pid <= 0 || processStartTime(record.pid) !== record.pidStartTime;
}

/**
 * The status as far as the init process and the start socket tell it, derived from the process itself,
 * never trusted from disk: `started` is running or paused (container-status.ts reads which from the
 * cgroup; `start` needs that only for its error message, and leaves the cgroup code out of its bundle).
 */
export function lifecycleStatus(record: ContainerRecord, dir: string): 'stopped' | 'created' | 'started' {
  if (initGone(record)) return 'stopped';
  if (fs.existsSync(path.join(dir, START_SOCKET))) return 'created';
  return 'started';
}
