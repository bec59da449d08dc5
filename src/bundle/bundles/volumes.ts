// Volumes as the engine documents describe them: `--volume /host:/dst[:ro]` binds a host directory,
// `--volume name:/dst[:ro]` a named volume, and each image Volume not given one gets an anonymous volume.
// Named and anonymous volumes are directories under the store's volumes/ and survive `bundle rm`.
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { Mount } from '../../runtime/config/types';

export interface VolumeUse {
  mount: Mount;
  /** The volume's name when it lives in the store. */
  volume?: string;
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
  return { mount: { destination: dst, type: 'bind', source: volumeDir(volumesRoot, src), options }, volume: src };
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
    out.push({ mount: { destination: dst, type: 'bind', source: volumeDir(volumesRoot, name), options: ['rbind', 'rw'] }, volume: name });
  }
  return out;
}
