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

export { removeContainerCgroup, removeDefaultCgroupOf } from './record-cgroup';

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
  const prog = deviceProgram(compileDeviceFilter(rules));
  const fd = cgroup.fd();
  try {
    native().bpfProgAttach(prog, fd, BPF_F_ALLOW_MULTI);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Loaded device programs by their instructions. A process that creates many containers (the shim: a
 * pod's containers, a namespace's) attaches one program to all that have the same rules, and each create
 * after the first skips the verifier (BPF_PROG_LOAD: 0.85 ms a load here). A loaded program is immutable, and
 * its fd (close-on-exec, never handed to a helper) stays with the runtime; the CLI loads once anyway.
 */
const devicePrograms = new Map<string, number>();
const DEVICE_PROGRAMS_KEPT = 8;

function deviceProgram(insns: Buffer): number {
  const key = insns.toString('base64');
  const kept = devicePrograms.get(key);
  if (kept !== undefined) return kept;
  const prog = native().bpfProgLoadDevice(insns, DEVICE_PROG_LICENSE);
  if (devicePrograms.size >= DEVICE_PROGRAMS_KEPT) {
    // the oldest goes (a Map iterates in insertion order); cgroups it is attached to keep it alive
    const [oldKey, oldFd] = devicePrograms.entries().next().value as [string, number];
    devicePrograms.delete(oldKey);
    fs.closeSync(oldFd);
  }
  devicePrograms.set(key, prog);
  return prog;
}

/** The cgroup of a container record, or undefined when it has none. */
export function recordCgroup(record: ContainerRecord): Cgroup | undefined {
  return record.cgroupPath ? Cgroup.open(record.cgroupPath, { created: record.cgroupCreated }) : undefined;
}
