import { RuntimeError } from '../errors';
import { runHooksCollecting } from '../hooks';
import { containerStatus } from '../state/status';
import { StateStore } from '../state/store';
import { removeContainerCgroup, removeDefaultCgroupOf } from './container-cgroup';
import { killAndWait } from './kill';
import { ociState } from './state';
import { readHostMounts, undoHostMounts, undoRecorded } from './host-mounts';

export interface DeleteOptions {
  force?: boolean;
  /** Told about each failed poststop hook (a warning, not an error: runtime.md). */
  warn?: (message: string) => void;
}

/**
 * `delete`: a stopped (or created) container's resources go; `force` kills a running one first.
 * Then the poststop hooks run; their failures are returned (and given to `opts.warn`) as warnings.
 */
export async function deleteContainer(root: string, id: string, opts: DeleteOptions = {}): Promise<string[]> {
  const store = new StateStore(root);
  let dir;
  try {
    dir = store.lock(id);
  } catch (err) {
    if (opts.force && err instanceof RuntimeError) {
      // A create killed half-way leaves a directory without state (and maybe its default cgroup, and
      // mounts in our namespace: their record is read first, used once the directory proved incomplete).
      const mounts = readHostMounts(store.dir(id));
      if (store.removeIncomplete(id)) {
        await removeDefaultCgroupOf(id);
        for (const m of mounts ? undoRecorded(mounts) : []) opts.warn?.(`mount not removed: ${m}`);
      }
      return [];
    }
    throw err;
  }
  let record;
  try {
    record = dir.read();
    const status = containerStatus(record, dir.path);
    // runtime.md: deleting a container that is not stopped is an error (runc lets created ones go).
    if (status !== 'stopped' && !opts.force)
      throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    if (status !== 'stopped') await killAndWait(record.pid);
    await removeContainerCgroup(record);
  } catch (err) {
    dir.release();
    throw err;
  }
  // A container in our mount namespace: its mounts under the rootfs go with it (runc leaves them).
  const left = undoHostMounts(dir.path).map((m) => `mount not removed: ${m}`);
  dir.remove();
  const warnings = [...left, ...(await runHooksCollecting('poststop', record.hooks?.poststop, ociState(record, 'stopped')))];
  for (const w of warnings) opts.warn?.(w);
  return warnings;
}
