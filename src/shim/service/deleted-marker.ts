// The server's note to the shim binary's `delete` (native/shimlaunch/delete.c): this container was deleted
// here, completely. containerd 1.6 runs `SHIM delete` after every task delete and waits for it; with the
// note the launcher answers without starting Node, after checking that nothing is left. The note names
// the bundle info file's inode, so it never speaks for a later container in a reused bundle directory.
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE_INFO, readBundleInfo } from './bundle-info';

export const DELETED_MARKER = '.tsrunc-shim-deleted';

/** "v1 <inode of tsrunc-shim.json> <init pid>\n<state root>\n"; best effort (without it, Node cleans up). */
export function writeDeletedMarker(bundle: string): void {
  try {
    const info = readBundleInfo(bundle);
    if (!info?.root) return;
    const ino = fs.statSync(path.join(bundle, BUNDLE_INFO)).ino;
    const tmp = path.join(bundle, `${DELETED_MARKER}.tmp`);
    fs.writeFileSync(tmp, `v1 ${ino} ${info.pid ?? 0}\n${info.root}\n`, { mode: 0o600 });
    fs.renameSync(tmp, path.join(bundle, DELETED_MARKER));
  } catch {
    // the bundle is going anyway; `delete` then runs the full cleanup
  }
}
