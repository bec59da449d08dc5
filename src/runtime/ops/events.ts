import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntimeError } from '../errors';
import { statsJson, type Stats } from '../cgroups/stats';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { recordCgroup } from './container-cgroup';

/** One event in runc's shape: `{"type":"stats"|"oom", "id", "data"}`. */
export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: Stats;
}

/** One line of `tsrunc events`; u64 counters stay exact. */
export function eventJson(event: ContainerEvent): string {
  return statsJson(event);
}

/** The container's resource usage now, as `events --stats` prints it. */
export function stats(root: string, id: string): ContainerEvent {
  const store = new StateStore(root);
  const record = store.read(id);
  if (containerStatus(record, store.dir(id)) === 'stopped') throw new RuntimeError('container is stopped');
  const cgroup = recordCgroup(record);
  if (!cgroup) throw new RuntimeError('the container has no cgroup');
  return { type: 'stats', id, data: cgroup.stats() };
}

/** Stats every `intervalMs`, and an `oom` event whenever memory.events' oom_kill count grows, until the container stops. */
export async function* events(root: string, id: string, intervalMs: number): AsyncGenerator<ContainerEvent> {
  const store = new StateStore(root);
  const record = store.read(id);
  const cgroup = recordCgroup(record);
  if (!cgroup) throw new RuntimeError('the container has no cgroup');
  let ooms = oomKills(cgroup.dir);
  while (containerStatus(record, store.dir(id)) !== 'stopped') {
    const now = oomKills(cgroup.dir);
    if (now > ooms) yield { type: 'oom', id };
    ooms = now;
    yield { type: 'stats', id, data: cgroup.stats() };
    await sleep(intervalMs);
  }
}

function oomKills(dir: string): number {
  try {
    const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(`${dir}/memory.events`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
