import type { Spec } from '../config/types';
import { ConfigError } from '../errors';
import { native } from '../native';
import { OCI_VERSION } from '../spec-version';

/** tsrunc-init's OP_SECCOMP asks for the process state under this SYNC name. */
export const SECCOMP_LISTENER_SYNC = 'seccomp-listener';

/** Connected to linux.seccomp.listenerPath when a rule notifies; -1 otherwise. */
export function connectSeccompListener(spec: Spec): number {
  const sc = spec.linux?.seccomp;
  if (!sc?.listenerPath || !(sc.syscalls ?? []).some((r) => r.action === 'SCMP_ACT_NOTIFY')) return -1;
  try {
    return native().unixConnect(sc.listenerPath);
  } catch (e) {
    throw new ConfigError('linux.seccomp.listenerPath', `cannot connect to ${sc.listenerPath}: ${(e as Error).message}`);
  }
}

/** runtime-spec config-linux.md "The Container Process State", sent with the notify fd of process `pid`. */
export function processState(spec: Spec, pid: number, state: object) {
  return { ociVersion: OCI_VERSION, fds: ['seccompFd'], pid, metadata: spec.linux?.seccomp?.listenerMetadata ?? '', state };
}
