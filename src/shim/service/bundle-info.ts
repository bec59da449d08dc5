// What the `delete` command needs to know about a container when the shim that made it is gone:
// kept in the bundle (containerd removes the bundle after `delete`), like runc's shim's options.json.
import fs from 'node:fs';
import path from 'node:path';

export const BUNDLE_INFO = 'tsrunc-shim.json';

export interface BundleInfo {
  /** tsrunc state root of the container. */
  root: string;
  rootfsMounted: boolean;
  /** Init pid, once created. */
  pid?: number;
}

/**
 * Atomic; with `durable`, synced (file and directory) before it returns: the first write is the
 * write-ahead record that lets `delete` find the state root, and it must be there before anything is made.
 */
export function writeBundleInfo(bundle: string, info: BundleInfo, durable = false): void {
  const tmp = path.join(bundle, `.${BUNDLE_INFO}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(info));
    if (durable) fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(bundle, BUNDLE_INFO));
  if (!durable) return;
  const dir = fs.openSync(bundle, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

export function readBundleInfo(bundle: string): BundleInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(bundle, BUNDLE_INFO), 'utf8')) as BundleInfo;
  } catch {
    return undefined;
  }
}
