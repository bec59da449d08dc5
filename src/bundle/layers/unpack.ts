// Unpacks one layer tar into a fresh directory in the form overlayfs reads as a lowerdir: `.wh.NAME` becomes
// a 0/0 character device NAME, `.wh..wh..opq` the overlay.opaque=y xattr on its directory. Keeps
// hardlinks, symlinks, devices, fifos, owners, modes, mtimes and xattrs (pax SCHILY.xattr.*). Entry paths
// go through SafeRoot, and nothing is ever opened through a symlink, so no entry writes outside `dest`.
// Unprivileged (rootless), what the kernel refuses is left out and listed in `dropped`: owners (everything
// is the caller's), device nodes (whiteouts, 0/0, are allowed), xattrs outside user.*; the opaque mark is
// user.overlay.opaque; directories keep u+rwx and files u+r, so the caller can read and remove the layer.
import { createHash } from 'node:crypto';
import {
  closeSync, constants, createReadStream, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, chmodSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync, writeSync,
} from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Headers } from 'tar-stream';
import './tar-pax';
import { native } from '../../runtime/native';
import { decompressor } from './decompress';
import { IS_ROOT, OPAQUE_XATTR } from './overlay-xattr';
import { entryComponents, SafeRoot } from './safe-path';

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

export interface UnpackResult {
  diffId: string;
  bytes: number;
  /** Unprivileged only: what could not be kept ("device nodes", "xattr security.capability", ...). */
  dropped: string[];
}

interface Fs {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
}

function xattrsOf(h: Headers): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  const pax = (h as { pax?: Record<string, string> }).pax ?? {};
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith('SCHILY.xattr.')) out.push([k.slice(13), Buffer.from(v, 'latin1')]);
  }
  return out;
}

/** Removes whatever is at `abs` (an entry replaces an earlier one of the same name). */
function clear(abs: string, keepDir: boolean): void {
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (!st || (keepDir && st.isDirectory())) return;
  if (st.isDirectory()) rmSync(abs, { recursive: true, force: true });
  else unlinkSync(abs);
}

/** Told the totals so far: bytes of tar unpacked, bytes of the (compressed) blob read. */
export type OnBytes = (unpacked: number, read: number) => void;

/**
 * Streams `blob` (compressed per `mediaType`) into `dest` (which must exist and be empty), returning the
 * sha256 of the uncompressed tar (the diffID) for the caller to check.
 */
export async function unpackLayer(blob: string, mediaType: string, dest: string, onBytes?: OnBytes): Promise<UnpackResult> {
  const dropped = new Set<string>();
  const fs = IS_ROOT ? (native() as unknown as Fs) : unprivileged(native() as unknown as Fs, dropped);
  const safe = new SafeRoot(dest);
  const dirTimes: [string, Date][] = [];
  const hash = createHash('sha256');
  let bytes = 0;
  let read = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes, read);
      done(null, chunk);
    },
  });
  const tar = extract();
  tar.on('entry', (h, stream, next) => {
    // A failed entry destroys the extract, which errors the entry stream too: the pipeline reports it once.
    stream.on('error', () => undefined);
    let fd = -1;
    const fail = (e: unknown) => {
      if (fd >= 0) closeSync(fd);
      stream.resume();
      next(e as Error);
    };
    try {
      const parts = entryComponents(h.name);
      const base = parts[parts.length - 1] ?? '';
      if (parts.length === 0) {
        // The root itself ("./"): only its metadata.
        stream.resume();
        return stream.on('end', () => next());
      }
      const abs = safe.prepare(parts, h.name);
      if (base === OPAQUE) {
        fs.lsetxattr(abs.slice(0, -OPAQUE.length - 1), OPAQUE_XATTR, Buffer.from('y'));
      } else if (base.startsWith(WH)) {
        const target = `${abs.slice(0, -base.length)}${base.slice(WH.length)}`;
        safe.forget([...parts.slice(0, -1), base.slice(WH.length)]);
        clear(target, false);
        fs.mknod(target, constants.S_IFCHR | 0o000, 0, 0);
      } else {
        fd = writeEntry(h, parts, abs, safe, fs, stream, dirTimes);
        if (fd >= 0) {
          stream.on('data', (c: Buffer) => {
            for (let off = 0; off < c.length; ) off += writeSync(fd, c, off);
          });
          stream.on('end', () => {
            try {
              finishFile(fd, h, xattrsOf(h), abs, fs);
              fd = -1;
              next();
            } catch (e) {
              fail(e);
            }
          });
          return;
        }
      }
      stream.resume();
      stream.on('end', () => next());
    } catch (e) {
      fail(e);
    }
  });
  const input = createReadStream(blob, { highWaterMark: 1 << 20 });
  if (onBytes) input.on('data', (c) => (read += c.length));
  await pipeline(input, (src) => decompressor(mediaType, src as any), hasher, tar);
  // Directory mtimes last: creating their entries changed them.
  for (const [abs, t] of dirTimes.reverse()) lutimesSync(abs, t, t);
  return { diffId: 'sha256:' + hash.digest('hex'), bytes, dropped: [...dropped] };
}

/** The calls an unprivileged caller may be refused (EPERM), each refusal noted instead of failing. */
function unprivileged(fs: Fs, dropped: Set<string>): Fs {
  const refused = (e: unknown) => (e as { errno?: number }).errno === 1; // EPERM
  return {
    mknod(path, mode, major, minor) {
      try {
        fs.mknod(path, mode, major, minor);
      } catch (e) {
        // A fifo or a whiteout (0/0) must never be left out.
        const whiteout = (mode & constants.S_IFMT) === constants.S_IFCHR && major === 0 && minor === 0;
        if (!refused(e) || whiteout || (mode & constants.S_IFMT) === constants.S_IFIFO) throw e;
        dropped.add('device nodes');
      }
    },
    lsetxattr(path, name, value) {
      try {
        fs.lsetxattr(path, name, value);
      } catch (e) {
        if (!refused(e) || name === OPAQUE_XATTR) throw e;
        dropped.add(`xattr ${name}`);
      }
    },
  };
}

/** Creates a non-regular entry (returns -1) or opens a regular file for writing (returns its fd). */
function writeEntry(h: Headers, parts: string[], abs: string, safe: SafeRoot, fs: Fs, _s: unknown, dirTimes: [string, Date][]): number {
  const mode = (h.mode ?? 0o644) & 0o7777;
  const type = h.type ?? 'file';
  if (type === 'directory') {
    clear(abs, true);
    if (!lstatSync(abs, { throwIfNoEntry: false })) mkdirSync(abs, { mode: 0o700 });
    safe.markDir(parts);
    meta(abs, h, mode, fs, false);
    if (h.mtime) dirTimes.push([abs, h.mtime]);
    return -1;
  }
  safe.forget(parts);
  clear(abs, false);
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    case 'link': {
      const target = safe.prepare(entryComponents(h.linkname ?? ''), `hardlink ${h.name}`);
      const st = lstatSync(target, { throwIfNoEntry: false });
      if (!st || st.isDirectory()) throw new Error(`hardlink ${h.name}: target "${h.linkname}" is not an earlier file of this layer`);
      linkSync(target, abs);
      return -1;
    }
    case 'symlink':
      symlinkSync(h.linkname ?? '', abs);
      meta(abs, h, mode, fs, true);
      return -1;
    case 'character-device':
    case 'block-device':
    case 'fifo': {
      const kind = type === 'fifo' ? constants.S_IFIFO : type === 'block-device' ? constants.S_IFBLK : constants.S_IFCHR;
      fs.mknod(abs, kind | mode, h.devmajor ?? 0, h.devminor ?? 0);
      // (Unprivileged, a device node is left out.)
      if (lstatSync(abs, { throwIfNoEntry: false })) meta(abs, h, mode, fs, false);
      return -1;
    }
    default:
      throw new Error(`entry ${h.name}: unsupported tar entry type ${type}`);
  }
}

/** Owner, then mode (chown clears setuid bits), xattrs, mtime; never through a symlink. */
function meta(abs: string, h: Headers, mode: number, fs: Fs, isLink: boolean): void {
  if (IS_ROOT) lchownSync(abs, h.uid ?? 0, h.gid ?? 0);
  if (!isLink) chmodSync(abs, IS_ROOT ? mode : mode | (h.type === 'directory' ? 0o700 : 0o400));
  for (const [k, v] of xattrsOf(h)) fs.lsetxattr(abs, k, v);
  if (h.mtime && h.type !== 'directory') lutimesSync(abs, h.mtime, h.mtime);
}

function finishFile(fd: number, h: Headers, xattrs: [string, Buffer][], abs: string, fs: Fs): void {
  try {
    if (IS_ROOT) fchownSync(fd, h.uid ?? 0, h.gid ?? 0);
    fchmodSync(fd, ((h.mode ?? 0o644) & 0o7777) | (IS_ROOT ? 0 : 0o400));
    if (h.mtime) futimesSync(fd, h.mtime, h.mtime);
  } finally {
    closeSync(fd);
  }
  // abs was created by this entry with O_NOFOLLOW|O_EXCL; nothing has replaced it since.
  for (const [k, v] of xattrs) fs.lsetxattr(abs, k, v);
}
