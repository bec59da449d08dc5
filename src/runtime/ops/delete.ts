import { RuntimeError } from '../errors';
import { containerStatus } from '../state/status';
import { StateStore } from '../state/store';
import { recordCgroup } from './container-cgroup';
import { killAndWait } from './kill';

export interface DeleteOptions {
  force?: boolean;
}

/** `delete`: a stopped (or created) container's resources go; `force` kills a running one first. */
export async function deleteContainer(root: string, id: string, opts: DeleteOptions = {}): Promise<void> {
  const store = new StateStore(root);
  let dir;
  try {
    dir = store.lock(id);
  } catch (err) {
    if (opts.force && err instanceof RuntimeError) {
      store.dir(id); // still validates the id
      return;
    }
    throw err;
  }
  try {
    const record = dir.read();
    const status = containerStatus(record, dir.path);
    // runtime.md: deleting a container that is not stopped is an error (runc lets created ones go).
    if (status !== 'stopped' && !opts.force)
      throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    if (status !== 'stopped') await killAndWait(record.pid);
    await recordCgroup(record)?.remove();
  } catch (err) {
    dir.release();
    throw err;
  }
  dir.remove();
}
