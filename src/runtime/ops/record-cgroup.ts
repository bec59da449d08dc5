// The cgroup a container record names, opened without the resource and stats code (cgroups/handle.ts):
// delete, kill and start load only this; container-cgroup.ts (create, with the device filter) re-exports it.
import fs from 'node:fs';
import path from 'node:path';
import { CgroupHandle } from '../cgroups/handle';
import { resolveCgroupPath } from '../cgroups/path';
import type { ContainerRecord } from '../state/record';

/**
 * Removes the container's cgroup if tsrunc made it (a pre-existing one stays: `warn` hears when it is
 * not empty), and the shared default parent (/tsrunc) once the last container using it has gone: only
 * the container that made a directory would otherwise try.
 */
export async function removeContainerCgroup(record: ContainerRecord, warn?: (message: string) => void): Promise<void> {
  const cgroup = recordCgroupHandle(record);
  if (!cgroup) return;
  await cgroup.remove(warn);
  if (record.cgroupPath === defaultCgroupPath(record.id)) removeSharedParent(cgroup.dir);
}

function removeSharedParent(dir: string): void {
  try {
    fs.rmdirSync(path.dirname(dir));
  } catch {
    // other containers still use it, or it is gone
  }
}

/**
 * A state directory without a journal (a create killed before it began one, or an older tsrunc's): its
 * default cgroup goes if it is empty. Nothing proves it is ours, so nothing in it is killed.
 */
export async function removeDefaultCgroupOf(id: string): Promise<void> {
  const cgroup = CgroupHandle.openHandle(defaultCgroupPath(id));
  try {
    fs.rmdirSync(cgroup.dir);
  } catch {
    return; // absent, or in use
  }
  removeSharedParent(cgroup.dir);
}

function defaultCgroupPath(id: string): string {
  return resolveCgroupPath(undefined, id);
}

/** The cgroup of a container record (pids, kill, remove), or undefined when it has none. */
export function recordCgroupHandle(record: ContainerRecord): CgroupHandle | undefined {
  return record.cgroupPath ? CgroupHandle.openHandle(record.cgroupPath, { created: record.cgroupCreated }) : undefined;
}
