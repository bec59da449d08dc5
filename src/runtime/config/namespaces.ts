import { ConfigError } from '../errors';

export interface NamespaceInfo {
  /** CLONE_NEW* flag for unshare/clone/setns. */
  flag: number;
  /** File name under /proc/<pid>/ns/. */
  procName: string;
}

/** OCI namespace type -> kernel facts. */
export const NAMESPACES: Readonly<Record<string, NamespaceInfo>> = {
  mount: { flag: 0x00020000, procName: 'mnt' },
  cgroup: { flag: 0x02000000, procName: 'cgroup' },
  uts: { flag: 0x04000000, procName: 'uts' },
  ipc: { flag: 0x08000000, procName: 'ipc' },
  user: { flag: 0x10000000, procName: 'user' },
  pid: { flag: 0x20000000, procName: 'pid' },
  network: { flag: 0x40000000, procName: 'net' },
  time: { flag: 0x00000080, procName: 'time' },
};

export function isNamespaceType(type: string): boolean {
  return Object.hasOwn(NAMESPACES, type);
}

/** CLONE_NEW* flag of a namespace type; ConfigError at `where` if unknown. */
export function namespaceFlag(type: string, where = 'linux.namespaces'): number {
  if (!isNamespaceType(type)) throw new ConfigError(where, `unknown namespace type "${type}"`);
  return NAMESPACES[type]!.flag;
}

/** File name under /proc/<pid>/ns/ of a namespace type; ConfigError at `where` if unknown. */
export function namespaceProcName(type: string, where = 'linux.namespaces'): string {
  if (!isNamespaceType(type)) throw new ConfigError(where, `unknown namespace type "${type}"`);
  return NAMESPACES[type]!.procName;
}
