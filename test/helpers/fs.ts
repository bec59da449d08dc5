import { rmSync } from 'node:fs';
import { readMountinfo } from '../setup/leaks';

/** rm -rf that refuses to descend into mount points: a leaked bind mount could expose host files. */
export function removeTree(path: string): void {
  const prefix = path.endsWith('/') ? path : path + '/';
  const mounted = readMountinfo().filter((m) => m.mountPoint === path || m.mountPoint.startsWith(prefix));
  if (mounted.length > 0) {
    throw new Error(`not removing ${path}: mounts below it: ${mounted.map((m) => m.mountPoint).join(', ')}`);
  }
  rmSync(path, { recursive: true, force: true });
}
