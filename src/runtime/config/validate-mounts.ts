import fs from 'node:fs';
import { ConfigError } from '../errors';
import { checkAbsolutePath, checkArray, checkObject, checkString, checkStringArray } from './check';
import { validateIdMappings } from './validate-idmap';
import { parseMountOptions } from './mount-options';

/**
 * Filesystem types accepted without asking the kernel: the ones containers use. Any type the running kernel
 * lists in /proc/filesystems is accepted too (ext4 from a block device, fuse, ...). "bind" and "none" are not
 * filesystems: they mean a bind mount ("none" only together with a bind/rbind option, as Docker writes it).
 */
export const MOUNT_TYPES: ReadonlySet<string> = new Set([
  'proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'bind', 'overlay', 'ramfs', 'devtmpfs',
  'hugetlbfs', 'securityfs', 'debugfs', 'tracefs', 'binfmt_misc', 'fusectl', 'configfs', 'bpf', 'pstore',
]);

let kernelTypes: Set<string> | undefined;

function kernelFilesystems(): Set<string> {
  if (!kernelTypes) {
    kernelTypes = new Set();
    try {
      // Lines look like "nodev\tproc" or "\text4".
      for (const line of fs.readFileSync('/proc/filesystems', 'utf8').split('\n')) {
        const name = line.split('\t')[1]?.trim();
        if (name) kernelTypes.add(name);
      }
    } catch {
      // No /proc: only the static list.
    }
  }
  return kernelTypes;
}

export function isKnownMountType(type: string): boolean {
  return MOUNT_TYPES.has(type) || kernelFilesystems().has(type);
}

export function validateMounts(mounts: unknown): void {
  if (mounts === undefined) return;
  checkArray(mounts, 'mounts');
  mounts.forEach((m, i) => validateMount(m, `mounts[${i}]`));
}

function validateMount(m: unknown, where: string): void {
  checkObject(m, where);
  // A relative destination is taken relative to / (config.md; runc too): tsrunc-init resolves every
  // destination inside the rootfs anyway.
  checkString(m.destination, `${where}.destination`);
  if (!m.destination) throw new ConfigError(`${where}.destination`, 'must not be empty');
  if (m.options !== undefined) checkStringArray(m.options, `${where}.options`);
  const options = (m.options as string[] | undefined) ?? [];
  if (m.type !== undefined) checkString(m.type, `${where}.type`);
  const type = (m.type as string | undefined) ?? '';
  const bind = type === 'bind' || options.includes('bind') || options.includes('rbind');

  if (!bind) {
    if (type === '') throw new ConfigError(`${where}.type`, 'missing (and the options have no bind/rbind)');
    if (type === 'none') throw new ConfigError(`${where}.type`, '"none" needs a bind or rbind option');
    if (!isKnownMountType(type)) throw new ConfigError(`${where}.type`, `unknown filesystem type "${type}"`);
  }
  if (m.source !== undefined) checkString(m.source, `${where}.source`);
  if (bind) {
    if (!m.source) throw new ConfigError(`${where}.source`, 'a bind mount needs a source');
    if (!fs.existsSync(m.source as string))
      throw new ConfigError(`${where}.source`, `bind mount source ${m.source} does not exist`);
  }
  parseMountOptions(options, where, bind ? 'bind' : type);

  if (m.uidMappings !== undefined || m.gidMappings !== undefined) {
    if (!bind) throw new ConfigError(`${where}.uidMappings`, 'id-mapped mounts are only supported for bind mounts');
    validateIdMappings(m.uidMappings, `${where}.uidMappings`);
    validateIdMappings(m.gidMappings, `${where}.gidMappings`);
    if (m.uidMappings === undefined || m.gidMappings === undefined)
      throw new ConfigError(`${where}.${m.uidMappings === undefined ? 'uidMappings' : 'gidMappings'}`, 'an id-mapped mount needs both uidMappings and gidMappings');
  }
}

export function validatePathList(v: unknown, where: string): void {
  if (v === undefined) return;
  checkArray(v, where);
  v.forEach((p, i) => checkAbsolutePath(p, `${where}[${i}]`));
}
