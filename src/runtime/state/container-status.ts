import { cgroupFrozen } from '../cgroups/fsutil';
import { cgroupDir } from '../cgroups/path';
import type { ContainerRecord, Status } from './record';
import { lifecycleStatus } from './status';

/** The status is derived from the init process itself (and its cgroup's freezer), never trusted from disk. */
export function containerStatus(record: ContainerRecord, dir: string): Status {
  const status = lifecycleStatus(record, dir);
  if (status !== 'started') return status;
  // state.json is untrusted: cgroupDir checks the path, readCgroupFile opens beneath the cgroup2 mount
  if (record.cgroupPath && cgroupFrozen(cgroupDir(record.cgroupPath))) return 'paused';
  return 'running';
}
