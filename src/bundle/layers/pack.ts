// Turns an overlay upper dir into a layer tar (gzip): a 0/0 character device becomes a `.wh.NAME` whiteout,
// a trusted.overlay.opaque=y directory gets a `.wh..wh..opq` entry; hardlinks, symlinks, devices, fifos,
// owners, modes, mtimes and xattrs (except overlay's own trusted.overlay.*) are kept.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack, type Headers, type Pack } from 'tar-stream';
import { native } from '../../runtime/native';
import { isOpaque, isOverlayXattr } from './overlay-xattr';
import { PAX_XATTR } from './tar-pax';

interface Fs {
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
}

export interface Packed {
  diffId: string;
  digest: string;
  size: number;
}

function hashing(onDone: (hex: string, size: number) => void): Transform {
  const h = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(c: Buffer, _e, done) {
      h.update(c);
      size += c.length;
      done(null, c);
    },
    flush(done) {
      onDone(h.digest('hex'), size);
      done();
    },
  });
}

function header(fs: Fs, abs: string, name: string, st: Stats): Headers {
  const pax: Record<string, string> = {};
  for (const x of fs.llistxattr(abs)) {
    if (isOverlayXattr(x)) continue;
    const v = fs.lgetxattr(abs, x);
    if (v) pax[PAX_XATTR + x] = v.toString('latin1');
  }
  const h: Headers = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
  if (Object.keys(pax).length) (h as Headers & { pax: Record<string, string> }).pax = pax;
  return h;
}

function entry(p: Pack, h: Headers, body?: string): Promise<void> {
  return new Promise((res, rej) => {
    // A regular file without a body (a whiteout) still needs its (empty) content written.
    if (body === undefined) return p.entry(h, (h.type ?? 'file') === 'file' ? Buffer.alloc(0) : undefined, (e) => (e ? rej(e) : res()));
    const s = p.entry(h, (e) => (e ? rej(e) : res()));
    createReadStream(body).on('error', rej).pipe(s);
  });
}

async function walk(fs: Fs, p: Pack, root: string, rel: string, links: Map<string, string>): Promise<void> {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const abs = join(root, r);
    const st = lstatSync(abs);
    if (st.isCharacterDevice() && st.rdev === 0) {
      await entry(p, { name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, mode: 0o644, mtime: st.mtime, size: 0 });
      continue;
    }
    const h = header(fs, abs, r, st);
    if (st.isDirectory()) {
      await entry(p, { ...h, type: 'directory' });
      if (isOpaque(fs.lgetxattr, abs)) {
        await entry(p, { name: `${r}/.wh..wh..opq`, mode: 0o644, mtime: st.mtime, size: 0 });
      }
      await walk(fs, p, root, r, links);
    } else if (st.isFile()) {
      const first = st.nlink > 1 ? links.get(`${st.ino}`) : undefined;
      if (first) await entry(p, { ...h, type: 'link', linkname: first });
      else {
        if (st.nlink > 1) links.set(`${st.ino}`, r);
        await entry(p, { ...h, type: 'file', size: st.size }, abs);
      }
    } else if (st.isSymbolicLink()) {
      await entry(p, { ...h, type: 'symlink', linkname: readlinkSync(abs) });
    } else {
      const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
      const devmajor = Math.floor(st.rdev / 256) & 0xfff;
      const devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      await entry(p, { ...h, type, devmajor, devminor });
    }
  }
}

/** Writes `upper` as a gzip layer to `out`. */
export async function packUpper(upper: string, out: string): Promise<Packed> {
  const fs = native() as unknown as Fs;
  const p = pack();
  let diffId = '';
  let digest = '';
  let size = 0;
  const done = pipeline(
    p,
    hashing((hex) => (diffId = `sha256:${hex}`)),
    createGzip(),
    hashing((hex, n) => ((digest = `sha256:${hex}`), (size = n))),
    createWriteStream(out),
  );
  const walking = walk(fs, p, upper, '', new Map()).then(() => p.finalize(), (e) => p.destroy(e));
  await Promise.all([walking, done]);
  return { diffId, digest, size };
}
