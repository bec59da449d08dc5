import path from 'node:path';
import { ConfigError } from '../errors';
import {
  checkAbsolutePath, checkArray, checkId, checkInt, checkObject, checkString, keyPath,
} from './check';
import { isNamespaceType } from './namespaces';
import { validateIdMappings } from './validate-idmap';
import { validatePathList } from './validate-mounts';

/** The namespaces of a config: type -> joined path, or '' for a new namespace. */
export type NamespaceSet = Map<string, string>;

export function validateNamespaces(v: unknown): NamespaceSet {
  const set: NamespaceSet = new Map();
  if (v === undefined) return set;
  checkArray(v, 'linux.namespaces');
  v.forEach((ns, i) => {
    const at = `linux.namespaces[${i}]`;
    checkObject(ns, at);
    checkString(ns.type, `${at}.type`);
    if (!isNamespaceType(ns.type)) throw new ConfigError(`${at}.type`, `unknown namespace type "${ns.type}"`);
    if (set.has(ns.type)) throw new ConfigError(`${at}.type`, `duplicate namespace "${ns.type}"`);
    if (ns.path !== undefined && ns.path !== '') checkAbsolutePath(ns.path, `${at}.path`);
    set.set(ns.type, (ns.path as string | undefined) ?? '');
  });
  return set;
}

/** A namespace of this type is created (not joined). */
export function isNew(ns: NamespaceSet, type: string): boolean {
  return ns.get(type) === '';
}

export function validateLinux(linux: Record<string, unknown>, ns: NamespaceSet): void {
  validateUserNamespace(linux, ns);
  validateTimeOffsets(linux.timeOffsets, ns);
  validateDevices(linux.devices);
  validateSysctl(linux.sysctl, ns);
  validatePathList(linux.maskedPaths, 'linux.maskedPaths');
  validatePathList(linux.readonlyPaths, 'linux.readonlyPaths');
  if (linux.cgroupsPath !== undefined) {
    checkString(linux.cgroupsPath, 'linux.cgroupsPath');
    if (linux.cgroupsPath.split('/').includes('..'))
      throw new ConfigError('linux.cgroupsPath', `"${linux.cgroupsPath}" must not contain ".." components`);
  }
  if (linux.rootfsPropagation !== undefined && linux.rootfsPropagation !== '') {
    checkString(linux.rootfsPropagation, 'linux.rootfsPropagation');
    if (!ROOTFS_PROPAGATION.has(linux.rootfsPropagation))
      throw new ConfigError('linux.rootfsPropagation', `unknown propagation "${linux.rootfsPropagation}"`);
  }
  // config-linux.md: listenerMetadata goes to the agent at listenerPath; without one the config is invalid.
  const seccomp = linux.seccomp as Record<string, unknown> | undefined;
  if (seccomp && typeof seccomp === 'object' && seccomp.listenerMetadata !== undefined && !seccomp.listenerPath)
    throw new ConfigError('linux.seccomp.listenerMetadata', 'needs linux.seccomp.listenerPath');
  if (linux.personality !== undefined) {
    checkObject(linux.personality, 'linux.personality');
    const d = linux.personality.domain;
    if (d !== 'LINUX' && d !== 'LINUX32')
      throw new ConfigError('linux.personality.domain', `unknown personality domain ${JSON.stringify(d)}`);
  }
}

const ROOTFS_PROPAGATION = new Set([
  'shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable',
]);

function validateUserNamespace(linux: Record<string, unknown>, ns: NamespaceSet): void {
  validateIdMappings(linux.uidMappings, 'linux.uidMappings');
  validateIdMappings(linux.gidMappings, 'linux.gidMappings');
  const hasMappings = (m: unknown) => Array.isArray(m) && m.length > 0;
  if (isNew(ns, 'user')) {
    // A new user namespace without maps would leave every id unmapped (the overflow id).
    if (!hasMappings(linux.uidMappings)) throw new ConfigError('linux.uidMappings', 'a new user namespace needs uid mappings');
    if (!hasMappings(linux.gidMappings)) throw new ConfigError('linux.gidMappings', 'a new user namespace needs gid mappings');
  } else {
    if (hasMappings(linux.uidMappings)) throw new ConfigError('linux.uidMappings', 'uid mappings need a new user namespace');
    if (hasMappings(linux.gidMappings)) throw new ConfigError('linux.gidMappings', 'gid mappings need a new user namespace');
  }
}

const NSEC_PER_SEC = 1_000_000_000;

function validateTimeOffsets(v: unknown, ns: NamespaceSet): void {
  if (v === undefined) return;
  checkObject(v, 'linux.timeOffsets');
  if (Object.keys(v).length === 0) return;
  if (!isNew(ns, 'time')) throw new ConfigError('linux.timeOffsets', 'time offsets need a new time namespace');
  for (const [clock, off] of Object.entries(v)) {
    const at = keyPath('linux.timeOffsets', clock);
    if (clock !== 'monotonic' && clock !== 'boottime')
      throw new ConfigError(at, `unknown clock "${clock}" (monotonic or boottime)`);
    checkObject(off, at);
    if (off.secs !== undefined) checkInt(off.secs, `${at}.secs`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (off.nanosecs !== undefined) checkInt(off.nanosecs, `${at}.nanosecs`, 0, NSEC_PER_SEC - 1);
  }
}

function validateDevices(v: unknown): void {
  if (v === undefined) return;
  checkArray(v, 'linux.devices');
  const seen = new Set<string>();
  v.forEach((d, i) => {
    const at = `linux.devices[${i}]`;
    checkObject(d, at);
    if (d.type !== 'c' && d.type !== 'b' && d.type !== 'u' && d.type !== 'p')
      throw new ConfigError(`${at}.type`, `unknown device type ${JSON.stringify(d.type)} (c, b, u or p)`);
    checkAbsolutePath(d.path, `${at}.path`);
    // config-linux.md: the path MAY be anywhere in the container (tsrunc-init resolves it in the rootfs).
    const norm = normalizeDevicePath(d.path);
    if (norm === '/') throw new ConfigError(`${at}.path`, `device path "${d.path}" names the root`);
    if (seen.has(norm)) throw new ConfigError(`${at}.path`, `duplicate device "${d.path}"`);
    seen.add(norm);
    if (d.type !== 'p') {
      if (d.major === undefined) throw new ConfigError(`${at}.major`, `required for a type "${d.type}" device`);
      if (d.minor === undefined) throw new ConfigError(`${at}.minor`, `required for a type "${d.type}" device`);
    }
    // Linux dev_t: 12-bit major, 20-bit minor.
    if (d.major !== undefined) checkInt(d.major, `${at}.major`, 0, 0xfff);
    if (d.minor !== undefined) checkInt(d.minor, `${at}.minor`, 0, 0xfffff);
    if (d.fileMode !== undefined) checkInt(d.fileMode, `${at}.fileMode`, 0, 0o7777);
    if (d.uid !== undefined) checkId(d.uid, `${at}.uid`);
    if (d.gid !== undefined) checkId(d.gid, `${at}.gid`);
  });
}

// Namespaced sysctls a container may set (as runc allows): IPC ones with an ipc namespace, net.* with a
// network namespace (new, or joined by path: e.g. one prepared by CNI), the two UTS names with a uts namespace.
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

function validateSysctl(v: unknown, ns: NamespaceSet): void {
  if (v === undefined) return;
  checkObject(v, 'linux.sysctl');
  for (const [key, value] of Object.entries(v)) {
    const at = keyPath('linux.sysctl', key);
    checkString(value, at);
    // "/" is an accepted separator (sysctl(8) takes both); components must be plain names.
    const name = key.replaceAll('/', '.');
    if (name.split('.').some((c) => c === '' || c === '..' || !/^[\w\-:@+]+$/.test(c)))
      throw new ConfigError(at, `invalid sysctl name "${key}"`);
    const need = (type: string, what: string) => {
      if (!ns.has(type)) throw new ConfigError(at, `sysctl "${key}" needs a ${what} namespace`);
    };
    if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) need('ipc', 'ipc');
    else if (name.startsWith('net.')) need('network', 'network');
    // As runc: the hostname belongs to the "hostname" field only; the domain name may come from either.
    else if (name === 'kernel.hostname')
      throw new ConfigError(at, 'sysctl "kernel.hostname" conflicts with the "hostname" field: set that instead');
    else if (name === 'kernel.domainname') need('uts', 'uts');
    else throw new ConfigError(at, `sysctl "${key}" is not namespaced: a container may not set it`);
  }
}


/** A device path as tsrunc-init uses it: absolute, no "." or ".." or repeated or trailing slashes. */
export function normalizeDevicePath(p: string): string {
  return path.posix.resolve('/', p);
}
