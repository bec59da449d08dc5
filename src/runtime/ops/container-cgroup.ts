import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../config/types';
import { compileDeviceFilter, defaultAllowedDevices, DEVICE_PROG_LICENSE } from '../cgroups/devices';
import { Cgroup, type CgroupMkdirObserver } from '../cgroups/manager';
import { resolveCgroupPath } from '../cgroups/path';
import type { DeviceRule } from '../cgroups/types';
import { native } from '../native';
import { readJournal } from '../state/journal';
import type { ContainerRecord } from '../state/record';
import { StateStore } from '../state/store';

const BPF_F_ALLOW_MULTI = 2;

/**
 * The container's cgroup, made with its resources and device rules applied (all or nothing).
 * An unprivileged caller without a delegated cgroup runs the container without one, as runc does,
 * unless the config asks for limits.
 */
export function createContainerCgroup(spec: Spec, id: string, rootless: boolean, observer?: CgroupMkdirObserver, root?: string): Cgroup | undefined {
  let cgroup: Cgroup;
  try {
    const usedBy = root === undefined ? undefined : (p: string) => otherContainerOf(root, id, p);
    cgroup = Cgroup.create(resolveCgroupPath(spec.linux?.cgroupsPath, id), { resources: spec.linux?.resources, where: 'linux.resources', observer, usedBy });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (rootless && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') && !hasLimits(spec)) return undefined;
    throw err;
  }
  try {
    const rules = deviceRules(spec);
    // Device nodes of an unprivileged container are bind mounts of the host's: the host's permissions rule.
    if (rules.length && !rootless) attachDeviceFilter(cgroup, rules);
  } catch (err) {
    void cgroup.remove();
    throw err;
  }
  return cgroup;
}

/**
 * Whether another container of this state root has cgroup `cgroupPath` (its journal shows it about to
 * make it, or its state.json names it), even while that cgroup is empty: a stopped container's cgroup
 * would still be killed and removed by its delete. Read only when the cgroup already existed.
 */
function otherContainerOf(root: string, id: string, cgroupPath: string): string | undefined {
  const store = new StateStore(root);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return undefined;
  }
  for (const other of names) {
    if (other === id) continue;
    try {
      if (readJournal(path.join(root, other)).some((e) => e.op === 'cgroup' && e.leaf && e.path === cgroupPath) ||
          store.read(other).cgroupPath === cgroupPath) return `is the cgroup of container ${other}`;
    } catch {
      // not a container directory, or one being removed
    }
  }
  return undefined;
}

function hasLimits(spec: Spec): boolean {
  const r = spec.linux?.resources ?? {};
  return Object.entries(r).some(([key, value]) => key !== 'devices' && value !== undefined && JSON.stringify(value) !== '{}' && JSON.stringify(value) !== '[]');
}

/** runc's order: the config's rules, then the devices every container needs, then the config's own nodes. */
export function deviceRules(spec: Spec): DeviceRule[] {
  const configured = spec.linux?.resources?.devices ?? [];
  if (!configured.length) return [];
  const nodes = (spec.linux?.devices ?? []).map((d) => ({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: 'rwm' }));
  return [...configured, ...defaultAllowedDevices(), ...nodes];
}

/** The device rules as a cgroup eBPF program (cgroup v2 has no devices.allow files). */
function attachDeviceFilter(cgroup: Cgroup, rules: DeviceRule[]): void {
  const prog = native().bpfProgLoadDevice(compileDeviceFilter(rules), DEVICE_PROG_LICENSE);
  const fd = cgroup.fd();
  try {
    native().bpfProgAttach(prog, fd, BPF_F_ALLOW_MULTI);
  } finally {
    fs.closeSync(fd);
    fs.closeSync(prog);
  }
}

/**
 * Removes the container's cgroup if tsrunc made it (a pre-existing one stays: `warn` hears when it is
 * not empty), and the shared default parent (/tsrunc) once the last container using it has gone: only
 * the container that made a directory would otherwise try.
 */
export async function removeContainerCgroup(record: ContainerRecord, warn?: (message: string) => void): Promise<void> {
  const cgroup = recordCgroup(record);
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
  const cgroup = Cgroup.open(defaultCgroupPath(id));
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

/** The cgroup of a container record, or undefined when it has none. */
export function recordCgroup(record: ContainerRecord): Cgroup | undefined {
  return record.cgroupPath ? Cgroup.open(record.cgroupPath, { created: record.cgroupCreated }) : undefined;
}
