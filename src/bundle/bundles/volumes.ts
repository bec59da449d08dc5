// Volumes as the engine documents describe them: `--volume /host:/dst[:ro]` binds a host directory,
// `--volume name:/dst[:ro]` a named volume, and each image Volume not given one gets an anonymous volume.
// Named and anonymous volumes are directories under the store's volumes/ and survive `bundle rm`.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync } from 'node:fs';
import { flattenLayers } from '../layers/flatten';
import { isAbsolute, join, posix } from 'node:path';
import type { Mount } from '../../runtime/config/types';

export interface VolumeUse {
  mount: Mount;
  /** The volume's name when it lives in the store. */
  volume?: string;
  /** A store volume made just now: it gets the image's content at its destination. */
  fresh?: boolean;
}

let anonCount = 0;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function parseVolume(arg: string, volumesRoot: string): VolumeUse {
  const parts = arg.split(':');
  if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && parts[2] !== 'ro' && parts[2] !== 'rw')) {
    throw new Error(`--volume ${arg}: expected SRC:DST[:ro]`);
  }
  const [src, dst, mode] = parts as [string, string, string | undefined];
  if (!posix.isAbsolute(dst)) throw new Error(`--volume ${arg}: the destination must be an absolute path`);
  const options = ['rbind', mode === 'ro' ? 'ro' : 'rw'];
  if (isAbsolute(src)) return { mount: { destination: dst, type: 'bind', source: src, options } };
  if (!NAME.test(src)) throw new Error(`--volume ${arg}: "${src}" is neither an absolute host path nor a volume name`);
  const fresh = !existsSync(join(volumesRoot, src));
  return { mount: { destination: dst, type: 'bind', source: volumeDir(volumesRoot, src), options }, volume: src, fresh };
}

export function volumeDir(volumesRoot: string, name: string): string {
  const dir = join(volumesRoot, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** Anonymous volumes for the image's Volumes that no --volume covers. */
export function imageVolumes(volumes: Record<string, object> | undefined, given: VolumeUse[], volumesRoot: string): VolumeUse[] {
  const out: VolumeUse[] = [];
  for (const dst of Object.keys(volumes ?? {})) {
    if (given.some((g) => posix.normalize(g.mount.destination) === posix.normalize(dst))) continue;
    const name = `anon-${Date.now().toString(36)}-${process.pid}-${++anonCount}`;
    out.push({ mount: { destination: dst, type: 'bind', source: volumeDir(volumesRoot, name), options: ['rbind', 'rw'] }, volume: name, fresh: true });
  }
  return out;
}

/**
 * A new volume starts with what the image has at its destination (owner, mode and content), as the engine
 * documents describe. The path is walked in the rootfs without following symlinks: an image cannot make this
 * copy read from the host.
 */
export function populateVolume(rootfs: string, use: VolumeUse): void {
  if (!use.fresh) return;
  let path = rootfs;
  for (const part of use.mount.destination.split('/').filter(Boolean)) {
    path = join(path, part);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) return;
  }
  const st = lstatSync(path);
  flattenLayers([path], use.mount.source!);
  chownSync(use.mount.source!, st.uid, st.gid);
  chmodSync(use.mount.source!, st.mode & 0o7777);
}
