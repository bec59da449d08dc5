// `delete`: containerd cannot reach the shim (it died): kill what is left of the container, remove its
// state and cgroup, unmount its rootfs, and print a DeleteResponse. Touches this container only: with
// grouping, the shim may still be serving others (containerd also calls this after a normal Delete).
import path from 'node:path';
import { deleteContainer } from '../../runtime/ops/delete';
import { validateId } from '../../runtime/state/id';
import { ConfigError } from '../../runtime/errors';
import { unmountRootfs } from '../mount';
import { readBundleInfo } from './bundle-info';
import type { ShimFlags } from './flags';
import { DEFAULT_ROOT } from './options';

export async function deleteCommand(f: ShimFlags): Promise<number> {
  validateId(f.id);
  const bundle = f.bundle || process.cwd();
  if (!path.isAbsolute(bundle)) throw new ConfigError('-bundle', `${bundle} is not absolute`);
  const info = readBundleInfo(bundle);
  const root = info?.root ?? path.join(DEFAULT_ROOT, f.namespace);
  try {
    await deleteContainer(root, f.id, { force: true, warn: (w) => process.stderr.write(`${w}\n`) });
  } catch (err) {
    if (!/does not exist/.test((err as Error).message)) process.stderr.write(`delete ${f.id}: ${(err as Error).message}\n`);
  }
  try {
    await unmountRootfs(path.join(bundle, 'rootfs'));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
  }
  const { create, toBinary, timestampNow, DeleteResponseSchema } = await import('../proto');
  process.stdout.write(toBinary(DeleteResponseSchema, create(DeleteResponseSchema, { pid: info?.pid ?? 0, exitStatus: 128 + 9, exitedAt: timestampNow() })));
  return 0;
}
