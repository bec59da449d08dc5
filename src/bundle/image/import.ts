// `image import`: everything is verified and staged under the store's tmp/ first (blobs copied and checked,
// new layers unpacked and their diffIDs checked), then renamed into place, and only then tagged: a failure
// at any point leaves the store as it was.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackLayer } from '../layers/unpack';
import { sha256, sha256File, verifyDigest } from './digest';
import { readDockerArchive } from './docker-archive';
import { parsePlatform, readOciLayout, splitLayoutRef, type SourceImage } from './oci-source';
import { parseRef } from './refs';
import { Store } from './store';
import type { LayerProgress } from './progress';
import { MT, type Descriptor } from './types';

export interface ImportOptions {
  tag?: string;
  platform?: string;
  /** Told what an unprivileged unpack had to leave out. */
  notice?: (message: string) => void;
  /** Told where each layer is (for a progress line on a TTY). */
  progress?: (p: LayerProgress) => void;
}

export interface Imported {
  name: string;
  digest: string;
  layers: number;
  unpacked: number;
}

function isNonDistributable(mediaType: string): boolean {
  return mediaType.includes('nondistributable') || mediaType.includes('foreign');
}

async function readSource(path: string, staging: string, platform: string | undefined): Promise<SourceImage> {
  const p = parsePlatform(platform);
  const { dir } = splitLayoutRef(path);
  if (existsSync(dir) && statSync(dir).isDirectory()) return readOciLayout(path, p);
  if (existsSync(path) && statSync(path).isFile()) return readDockerArchive(path, join(staging, 'archive'), p);
  const colon = path.lastIndexOf(':');
  if (colon > 0 && existsSync(path.slice(0, colon)) && statSync(path.slice(0, colon)).isFile()) {
    return readDockerArchive(path.slice(0, colon), join(staging, 'archive'), p, path.slice(colon + 1));
  }
  throw new Error(`${path}: no such OCI layout directory or docker-archive file`);
}

/** Stores `data` as a blob (staged then renamed). */
export function putBlob(store: Store, staging: string, data: Buffer): Descriptor & { digest: string } {
  const digest = sha256(data);
  if (!existsSync(store.blob(digest))) {
    const tmp = join(staging, digest.slice(7));
    writeFileSync(tmp, data);
    renameSync(tmp, store.blob(digest));
  }
  return { mediaType: '', digest, size: data.length };
}

export async function importImage(store: Store, path: string, opts: ImportOptions = {}): Promise<Imported> {
  const staging = store.stage('import-');
  try {
    const src = await readSource(path, staging, opts.platform);
    const { manifest, config } = src;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new Error(`config: rootfs.diff_ids has ${diffIds.length} entries for ${manifest.layers.length} layers`);
    }
    const moves: [string, string][] = [];
    let unpacked = 0;
    for (const [i, layer] of manifest.layers.entries()) {
      const file = src.layerFiles[i];
      if (!file) {
        if (isNonDistributable(layer.mediaType)) {
          throw new Error(`layer ${layer.digest} (${layer.mediaType}) is non-distributable and not in the source; fetching it from its urls is not supported`);
        }
        throw new Error(`layer ${layer.digest}: blob missing from ${path}`);
      }
      verifyDigest(sha256File(file), layer.digest, `layer ${i} blob`);
      if (!existsSync(store.blob(layer.digest))) {
        const tmp = join(staging, `blob-${i}`);
        copyFileSync(file, tmp);
        moves.push([tmp, store.blob(layer.digest)]);
      }
      const diffId = diffIds[i]!;
      const target = store.layerDir(diffId);
      const at = { layer: i, layers: manifest.layers.length, digest: layer.digest, size: statSync(file).size, read: 0, unpacked: 0 };
      if (existsSync(target) || moves.some(([, to]) => to === target)) {
        opts.progress?.({ ...at, state: 'stored' });
        continue;
      }
      const dir = join(staging, `layer-${i}`);
      mkdirSync(dir);
      opts.progress?.({ ...at, state: 'unpacking' });
      const report = opts.progress && ((unpacked: number, read: number) => opts.progress!({ ...at, state: 'unpacking', read, unpacked }));
      const { diffId: got, bytes, dropped } = await unpackLayer(file, layer.mediaType, dir, report);
      if (dropped.length) opts.notice?.(`layer ${i + 1} (${layer.digest.slice(7, 19)}): unprivileged, left out: ${dropped.join(', ')}; files are owned by the caller`);
      opts.progress?.({ ...at, state: 'done', read: at.size, unpacked: bytes });
      verifyDigest(got, diffId, `layer ${i} diff_id (uncompressed ${layer.digest})`);
      moves.push([dir, target]);
      unpacked++;
    }
    for (const [from, to] of moves) {
      try {
        renameSync(from, to);
      } catch (e) {
        // Another import put the same content there first.
        if (!['EEXIST', 'ENOTEMPTY'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    putBlob(store, staging, src.configBytes);
    const m = putBlob(store, staging, src.manifestBytes);
    const ref = parseRef(opts.tag ?? src.suggestedName ?? '');
    if (!opts.tag && !src.suggestedName) throw new Error(`${path}: the image has no name; give --tag NAME[:TAG]`);
    const desc = { mediaType: manifest.mediaType ?? MT.manifest, digest: m.digest, size: m.size };
    store.locked(() => store.tag(ref.name, ref.tag ?? 'latest', desc));
    return { name: `${ref.name}:${ref.tag ?? 'latest'}`, digest: m.digest, layers: manifest.layers.length, unpacked };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
