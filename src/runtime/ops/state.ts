import fs from 'node:fs';
import { native } from '../native';
import type { ContainerRecord, Status } from '../state/record';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { OCI_VERSION } from '../spec-version';

/** The OCI state (runtime.md "State"), as hooks and seccomp listeners receive it. */
export function ociState(record: ContainerRecord, status: Status) {
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    status,
    pid: status === 'stopped' ? 0 : record.pid,
    bundle: record.bundle,
    annotations: record.annotations,
  };
}

/** What `tsrunc state` prints: the OCI state plus runc's extra fields, in runc's order. */
export interface StateView {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
  owner: string;
}

/** `owner`: runc's `state` prints it empty; only `list` names it (list below). */
export function stateView(record: ContainerRecord, status: Status, owner = ''): StateView {
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    annotations: record.annotations,
    owner,
  };
}

export function state(root: string, id: string): StateView {
  const store = new StateStore(root);
  const record = store.read(id);
  return stateView(record, containerStatus(record, store.dir(id)));
}

/**
 * All containers, as `tsrunc list` shows them. The owner is runc's list's: the user owning the state
 * directory (its creator), by name from /etc/passwd, else `#uid`.
 */
export function list(root: string): StateView[] {
  const store = new StateStore(root);
  const names = new Map<number, string>(); // a passwd scan per owner, not per container
  const ownerOf = (uid: number): string => {
    if (!names.has(uid)) names.set(uid, native().userName(uid) ?? `#${uid}`);
    return names.get(uid)!;
  };
  return store.ids().flatMap((id) => {
    try {
      const record = store.read(id);
      const dir = store.dir(id);
      return [stateView(record, containerStatus(record, dir), ownerOf(fs.statSync(dir).uid))];
    } catch {
      return []; // removed while we listed
    }
  });
}
