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

export function writeBundleInfo(bundle: string, info: BundleInfo): void {
  const tmp = path.join(bundle, `.${BUNDLE_INFO}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  fs.renameSync(tmp, path.join(bundle, BUNDLE_INFO));
}

export function readBundleInfo(bundle: string): BundleInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(bundle, BUNDLE_INFO), 'utf8')) as BundleInfo;
  } catch {
    return undefined;
  }
}
