import { execFileSync } from 'node:child_process';
import { RuntimeError } from '../errors';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { recordCgroup } from './container-cgroup';

/** Pids of every process of the container. */
export function containerPids(root: string, id: string): number[] {
  const store = new StateStore(root);
  const record = store.read(id);
  if (containerStatus(record, store.dir(id)) === 'stopped') return [];
  const cgroup = recordCgroup(record);
  if (!cgroup) throw new RuntimeError('the container has no cgroup');
  return cgroup.pids();
}

/** `ps -f table`: the host's `ps` (with `psArgs`, default -ef) restricted to the container's processes. */
export function psTable(root: string, id: string, psArgs: string[]): string {
  const pids = new Set(containerPids(root, id));
  const out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  const [header, ...lines] = out.split('\n');
  const pidColumn = header!.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new RuntimeError('ps output has no PID column');
  const rows = lines.filter((l) => l.trim() && pids.has(Number(l.trim().split(/\s+/)[pidColumn])));
  return [header, ...rows].join('\n') + '\n';
}
