import { RuntimeError } from '../errors';
import { runHooksCollecting } from '../hooks';
import type { ContainerRecord } from '../state/record';
import type { LockedDir } from '../state/store';
import { removeContainerCgroup } from './record-cgroup';
import { killAndWait } from './kill';
import { ociState } from './state';

// After a failing startContainer or poststart hook only: its own bundle (dist/lib/start-failed.cjs), so
// that every start does not load the cgroup code.

/** Undoes create like delete does (poststop hooks included); returns the error to throw. */
export async function destroyAfterHookFailure(record: ContainerRecord, dir: LockedDir, err: Error): Promise<Error> {
  await killAndWait(record.pid);
  await removeContainerCgroup(record);
  dir.remove();
  const warnings = await runHooksCollecting('poststop', record.hooks?.poststop, ociState(record, 'stopped'));
  return warnings.length ? new RuntimeError(`${err.message} (and ${warnings.join('; ')})`) : err;
}
