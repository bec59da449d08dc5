import { RuntimeError } from '../errors';
import { runHooksCollecting } from '../hooks';
import { readJournal } from '../state/journal';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { undoJournal } from '../state/undo';
import { removeContainerCgroup, removeDefaultCgroupOf } from './record-cgroup';
import { killAndWait } from './kill';
import { ociState } from './state';
import { undoHostMounts } from './host-mounts';

export interface DeleteOptions {
  force?: boolean;
  /** Told about each warning: a failed poststop hook (runtime.md), a pre-existing cgroup left in place. */
  warn?: (message: string) => void;
}

/**
 * `delete`: a stopped (or created) container's resources go; `force` kills a running one first, and
 * also undoes a create that was killed before it finished, from its write-ahead journal.
 * Then the poststop hooks run; their failures are returned (and given to `opts.warn`) as warnings.
 */
export async function deleteContainer(root: string, id: string, opts: DeleteOptions = {}): Promise<string[]> {
  const store = new StateStore(root);
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    opts.warn?.(w);
  };
  const dir = await store.lockAny(id);
  if (!dir) {
    // runc: with --force, a container that does not exist is deleted already
    if (opts.force) return warnings;
    throw new RuntimeError(`container ${id} does not exist`);
  }
  if (!dir.complete()) {
    try {
      if (!opts.force) throw new RuntimeError(`container ${id} does not exist`);
      const journal = readJournal(dir.path);
      await undoJournal(journal, { complete: false, warn });
      for (const m of undoHostMounts(dir.path)) warn(`mount not removed: ${m}`);
      // a directory without a journal: killed before it began one, or made by an older tsrunc
      if (!journal.length) await removeDefaultCgroupOf(id);
    } catch (err) {
      dir.release();
      throw err;
    }
    dir.remove();
    return warnings;
  }
  let record;
  try {
    record = dir.read();
    const status = containerStatus(record, dir.path);
    // runtime.md: deleting a container that is not stopped is an error (runc lets created ones go).
    if (status !== 'stopped' && !opts.force)
      throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    if (status !== 'stopped') await killAndWait(record.pid);
    await removeContainerCgroup(record, warn);
    await undoJournal(readJournal(dir.path), { complete: true, warn });
  } catch (err) {
    dir.release();
    throw err;
  }
  // A container in our mount namespace: its mounts under the rootfs go with it (runc leaves them).
  const left = undoHostMounts(dir.path).map((m) => `mount not removed: ${m}`);
  dir.remove();
  for (const w of left) warn(w);
  for (const w of await runHooksCollecting('poststop', record.hooks?.poststop, ociState(record, 'stopped'))) warn(w);
  return warnings;
}
