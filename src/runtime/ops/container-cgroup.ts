import type { Spec } from '../config/types';
import { Cgroup } from '../cgroups/manager';
import { resolveCgroupPath } from '../cgroups/path';
import type { ContainerRecord } from '../state/record';

/** The container's cgroup, made with its resources applied (all or nothing). */
export function createContainerCgroup(spec: Spec, id: string): Cgroup {
  return Cgroup.create(resolveCgroupPath(spec.linux?.cgroupsPath, id), { resources: spec.linux?.resources, where: 'linux.resources' });
}

/** The cgroup of a container record, or undefined when it has none. */
export function recordCgroup(record: ContainerRecord): Cgroup | undefined {
  return record.cgroupPath ? Cgroup.open(record.cgroupPath, { created: record.cgroupCreated }) : undefined;
}
