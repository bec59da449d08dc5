// `delete`: containerd cannot reach the shim (it died): kill what is left of the container, remove its
// state and cgroup, unmount its rootfs, and print a DeleteResponse. Touches this container only: with
// grouping, the shim may still be serving others. containerd also calls this after every normal Delete
// (when it closes its connection), so the common case, nothing left, loads nothing heavy.
import fs from 'node:fs';
import path from 'node:path';
import { validateId } from '../../runtime/state/id';
import { ConfigError } from '../../runtime/errors';
import { encodeDeleteResponse } from '../proto/delete-response';
import { isMountPoint } from '../mount';

import { readBundleInfo } from './bundle-info';
import type { ShimFlags } from './flags';
import { DEFAULT_ROOT } from './defaults';
import { canConnect } from './socket';
import { socketPath } from '../ttrpc/address';

export async function deleteCommand(f: ShimFlags): Promise<number> {
  validateId(f.id);
  const bundle = f.bundle || process.cwd();
  if (!path.isAbsolute(bundle)) throw new ConfigError('-bundle', `${bundle} is not absolute`);
  const info = readBundleInfo(bundle);
  const root = info?.root ?? path.join(DEFAULT_ROOT, f.namespace);
  if (fs.existsSync(path.join(root, f.id))) {
    const { deleteContainer } = await import('../../runtime/ops/delete');
    try {
      await deleteContainer(root, f.id, { force: true, warn: (w) => process.stderr.write(`${w}\n`) });
    } catch (err) {
      if (!/does not exist/.test((err as Error).message)) process.stderr.write(`delete ${f.id}: ${(err as Error).message}\n`);
    }
  }
  const rootfs = path.join(bundle, 'rootfs');
  if (isMountPoint(rootfs)) {
    const { unmountRootfs } = await import('../mount');
    try {
      await unmountRootfs(rootfs);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
    }
  }
  // A shim killed outright leaves its socket file; one still serving other containers keeps it.
  try {
    const sock = socketPath(fs.readFileSync(path.join(bundle, 'address'), 'utf8').trim());
    if (sock.startsWith('/') && fs.existsSync(sock) && !(await canConnect(sock))) {
      fs.rmSync(`${sock}.pid`, { force: true });
      fs.rmSync(sock, { force: true });
    }
  } catch {
    // no address file: no socket of ours
  }
  process.stdout.write(encodeDeleteResponse({ pid: info?.pid ?? 0, exitStatus: 128 + 9, exitedAt: new Date() }));
  return 0;
}
