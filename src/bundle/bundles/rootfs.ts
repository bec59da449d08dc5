// A bundle's rootfs: an overlayfs of the image's unpacked layers (lowerdirs, shared by every bundle, never
// written) and the bundle's own upper/work dirs (the writable container layer), or a flat copy where overlayfs
// cannot be mounted (a rootless caller, an upper dir on overlayfs, TSRUNC_NO_OVERLAY=1).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../runtime/native';
import { flattenLayers } from '../layers/flatten';

interface Fs {
  mount(src: string, target: string, type: string, flags: number, data: string): void;
  fsMount(fstype: string, target: string, options: [string, string | null][]): void;
  umount(target: string, flags: number): void;
}

const MNT_DETACH = 2;

export function layerPaths(bundle: string): { upper: string; work: string } {
  return { upper: join(bundle, '.layer', 'upper'), work: join(bundle, '.layer', 'work') };
}

export function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

/** mount(2) takes the options as one string of at most a page (with the NUL). */
const PAGE = 4096;

/** Mounts the overlay; `lowers` bottom to top. Throws with the kernel's reason. */
export function mountOverlay(bundle: string, lowers: string[]): void {
  if (process.env.TSRUNC_NO_OVERLAY === '1') throw new Error('disabled by TSRUNC_NO_OVERLAY=1');
  const rootfs = join(bundle, 'rootfs');
  const { upper, work } = layerPaths(bundle);
  for (const d of [rootfs, upper, work]) mkdirSync(d, { recursive: true });
  if (isMounted(rootfs)) return;
  // No redirects or metacopy: the upper dir must hold whole files and whole directories, so that `bundle
  // commit` can turn it into a plain layer.
  const fixed: [string, string][] = [['upperdir', upper], ['workdir', work], ['index', 'off'], ['redirect_dir', 'off'], ['metacopy', 'off']];
  const top = [...lowers].reverse();
  const data = [`lowerdir=${top.join(':')}`, ...fixed.map(([k, v]) => `${k}=${v}`)].join(',');
  const fs = native() as unknown as Fs;
  // ':' and ',' separate paths and options in the string (escaping them is version-dependent).
  if (Buffer.byteLength(data) < PAGE && ![...lowers, upper, work].some((p) => /[:,\\]/.test(p))) {
    return fs.mount('overlay', rootfs, 'overlay', 0, data);
  }
  // Too many layers (or too long store paths) for one page, or paths that need escaping: the new mount API
  // takes each lower layer as an option of its own ("lowerdir+", Linux 6.8), top first like lowerdir=.
  try {
    fs.fsMount('overlay', rootfs, [['source', 'overlay'], ...top.map((l): [string, string] => ['lowerdir+', l]), ...fixed]);
  } catch (e) {
    throw new Error(`the overlay options of ${lowers.length} layers do not fit mount(2), and "lowerdir+" failed (it needs Linux 6.8): ${(e as Error).message}`);
  }
}

export function flatRootfs(bundle: string, lowers: string[]): void {
  const rootfs = join(bundle, 'rootfs');
  // (An overlay that failed to mount left the empty mount point.)
  if (existsSync(rootfs) && readdirSync(rootfs).length) return;
  mkdirSync(rootfs, { recursive: true });
  flattenLayers(lowers, rootfs);
}

export function unmountRootfs(bundle: string): void {
  const rootfs = join(bundle, 'rootfs');
  if (isMounted(rootfs)) (native() as unknown as Fs).umount(rootfs, MNT_DETACH);
}
