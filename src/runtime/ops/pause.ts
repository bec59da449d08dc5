import { RuntimeError } from '../errors';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { recordCgroup } from './container-cgroup';

/** `pause`/`resume`: freeze or thaw every process of the container (cgroup.freeze). */
export async function pause(root: string, id: string): Promise<void> {
  const { cgroup, status } = open(root, id);
  if (status !== 'running' && status !== 'created') throw new RuntimeError(`cannot pause a ${status} container`);
  await cgroup.freeze();
}

export async function resume(root: string, id: string): Promise<void> {
  const { cgroup, status } = open(root, id);
  if (status !== 'paused') throw new RuntimeError(`cannot resume a ${status} container: it is not paused`);
  await cgroup.thaw();
}

function open(root: string, id: string) {
  const store = new StateStore(root);
  const record = store.read(id);
  const cgroup = recordCgroup(record);
  if (!cgroup) throw new RuntimeError('the container has no cgroup to freeze');
  return { cgroup, status: containerStatus(record, store.dir(id)) };
}
