// The flat-copy fallback where overlayfs cannot be used: the layers applied bottom to top into one
// directory, with overlay whiteouts (0/0 char devices) deleting and opaque directories hiding what is below.
import {
  chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync,
  rmSync, symlinkSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { native } from '../../runtime/native';
import { IS_ROOT, isOpaque, isOverlayXattr } from './overlay-xattr';

interface Fs {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
}

function copyMeta(fs: Fs, from: string, to: string, st: Stats): void {
  if (IS_ROOT) lchownSync(to, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(to, st.mode & 0o7777);
  for (const name of fs.llistxattr(from)) {
    if (isOverlayXattr(name)) continue;
    const v = fs.lgetxattr(from, name);
    if (v) fs.lsetxattr(to, name, v);
  }
  lutimesSync(to, st.atime, st.mtime);
}

function applyDir(fs: Fs, from: string, to: string, links: Map<string, string>): void {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    const have = lstatSync(dst, { throwIfNoEntry: false });
    if (st.isCharacterDevice() && st.rdev === 0) {
      rmSync(dst, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      const opaque = isOpaque(fs.lgetxattr, src);
      if (have && (!have.isDirectory() || opaque)) rmSync(dst, { recursive: true, force: true });
      if (!have || !have.isDirectory() || opaque) mkdirSync(dst);
      applyDir(fs, src, dst, links);
      copyMeta(fs, src, dst, st);
      continue;
    }
    if (have) rmSync(dst, { recursive: true, force: true });
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first) {
      linkSync(first, dst);
      continue;
    }
    if (st.isFile()) copyFileSync(src, dst, constants.COPYFILE_FICLONE);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else fs.mknod(dst, st.mode, Math.floor(st.rdev / 256) & 0xfff, (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00));
    if (st.nlink > 1) links.set(key, dst);
    copyMeta(fs, src, dst, st);
  }
}

/** `layers` bottom to top into the (empty) directory `dest`. */
export function flattenLayers(layers: string[], dest: string): void {
  const fs = native() as unknown as Fs;
  for (const layer of layers) applyDir(fs, layer, dest, new Map());
}
