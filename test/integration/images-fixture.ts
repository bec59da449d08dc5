// OCI image layouts made by the tests themselves: a busybox base layer plus hand-written layers (whiteouts,
// opaque dirs, hardlinks, devices, fifos, owners, xattrs), and hostile ones (a "../" entry, a symlink parent).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pack, type Headers } from 'tar-stream';
import '../../src/bundle/layers/tar-pax';
import { packUpper } from '../../src/bundle/layers/pack';

export interface Entry extends Partial<Headers> {
  name: string;
  body?: string | Buffer;
  pax?: Record<string, string>;
}

export interface BuiltLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** A gzip layer blob in `layout` from tar entries. */
export async function entriesLayer(layout: string, entries: Entry[]): Promise<BuiltLayer> {
  const p = pack();
  const tmp = join(layout, 'blobs', 'sha256', 'tmp-layer');
  const diff = createHash('sha256');
  const tee = new Transform({ transform: (c, _e, d) => (diff.update(c), d(null, c)) });
  const done = pipeline(p, tee, createGzip(), createWriteStream(tmp));
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const h = { mode: 0o644, uid: 0, gid: 0, mtime: new Date('2020-01-02T03:04:05Z'), ...e, size: body?.length ?? 0 } as Headers;
    delete (h as Entry).body;
    await new Promise<void>((res, rej) => {
      const s = p.entry(h, body as Buffer, (err) => (err ? rej(err) : res()));
      void s;
    });
  }
  p.finalize();
  await done;
  const data = readFileSync(tmp);
  const digest = sha(data);
  renameSync(tmp, join(layout, 'blobs', 'sha256', digest.slice(7)));
  return { digest, diffId: 'sha256:' + diff.digest('hex'), size: data.length, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

/** A gzip layer blob of a whole directory tree (the busybox rootfs). */
export async function dirLayer(layout: string, dir: string): Promise<BuiltLayer> {
  const tmp = join(layout, 'blobs', 'sha256', 'tmp-dir');
  const r = await packUpper(dir, tmp);
  renameSync(tmp, join(layout, 'blobs', 'sha256', r.digest.slice(7)));
  return { ...r, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

export function newLayout(dir: string): string {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return dir;
}

function blob(layout: string, data: string): { digest: string; size: number } {
  const digest = sha(data);
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: Buffer.byteLength(data) };
}

/** Writes config + manifest and tags it `tag` in index.json (adding to what is there). */
export function writeImage(layout: string, tag: string, layers: BuiltLayer[], config: object = {}): string {
  const cfg = blob(layout, JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2020-01-02T03:04:05Z',
    config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...config },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  }));
  const man = blob(layout, JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  const indexFile = join(layout, 'index.json');
  let index = { schemaVersion: 2, manifests: [] as object[] };
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch {
    // new layout
  }
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, annotations: { 'org.opencontainers.image.ref.name': tag },
  });
  writeFileSync(indexFile, JSON.stringify(index));
  return man.digest;
}

/** The hand-made layers on top of busybox. */
export const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // vfs cap v2, cap_net_raw permitted+eff

export function featureLayers(): Entry[][] {
  const d = (name: string, extra: Partial<Entry> = {}): Entry => ({ name, type: 'directory', mode: 0o755, ...extra });
  return [
    [
      { name: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
      { name: 'etc/group', body: 'root:x:0:\nappgrp:x:1000:\nextra:x:2000:app\n' },
      d('data/'),
      { name: 'data/a', body: 'alpha\n', pax: { 'SCHILY.xattr.user.note': 'hello' } },
      { name: 'data/b', body: 'bravo\n' },
      { name: 'data/hl', type: 'link', linkname: 'data/a' },
      { name: 'data/link', type: 'symlink', linkname: 'a' },
      { name: 'data/owned', body: 'mine\n', uid: 1000, gid: 1000, mode: 0o640 },
      { name: 'data/suid', body: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'data/capped', body: 'cap\n', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': CAP_NET_RAW.toString('latin1') } },
      { name: 'data/cnull', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'data/fifo', type: 'fifo', mode: 0o600 },
      d('olddir/'),
      { name: 'olddir/x', body: 'x\n' },
      { name: 'olddir/y', body: 'y\n' },
      d('vol/', { uid: 1000, gid: 1000, mode: 0o700 }),
      { name: 'vol/seed', body: 'seeded\n', uid: 1000, gid: 1000 },
    ],
    [
      { name: 'data/.wh.b', body: '' },
      d('olddir/'),
      { name: 'olddir/.wh..wh..opq', body: '' },
      { name: 'olddir/new', body: 'new\n' },
      { name: 'etc/motd', body: 'layer three\n' },
    ],
  ];
}
