// `bundle commit`: the bundle's upper dir becomes a new gzip layer on top of its image's layers, with a new
// config (diff_ids and history extended) and manifest, tagged NAME:TAG in the store. The new layer is
// unpacked from the blob just written, so the stored layer is exactly what the image says.
import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { putBlob } from '../image/import';
import { parseRef } from '../image/refs';
import { Store } from '../image/store';
import { MT, type ImageConfig, type Manifest } from '../image/types';
import { packUpper } from '../layers/pack';
import { unpackLayer } from '../layers/unpack';
import { readLocal } from './create';
import { layerPaths } from './rootfs';
import { verifyDigest } from '../image/digest';

export async function commitBundle(bundleArg: string, ref: string): Promise<{ name: string; digest: string; layer: string }> {
  const rec = readLocal(bundleArg);
  if (!rec.overlay) throw new Error(`${rec.bundle} has a flat-copy rootfs (no overlay upper dir) and cannot be committed`);
  const store = new Store(rec.store);
  const base = store.readJson<Manifest>(rec.manifest);
  const config = store.readJson<ImageConfig>(base.config.digest);
  const staging = store.stage('commit-');
  try {
    const blob = join(staging, 'layer.tar.gz');
    const packed = await packUpper(layerPaths(rec.bundle).upper, blob);
    const dir = join(staging, 'layer');
    mkdirSync(dir);
    const { diffId } = await unpackLayer(blob, MT.layerGzip, dir);
    verifyDigest(diffId, packed.diffId, 'committed layer');
    if (!existsSync(store.blob(packed.digest))) renameSync(blob, store.blob(packed.digest));
    if (!existsSync(store.layerDir(diffId))) renameSync(dir, store.layerDir(diffId));
    const created = new Date().toISOString();
    const newConfig: ImageConfig = {
      ...config,
      created,
      rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, diffId] },
      history: [...(config.history ?? []), { created, created_by: `tsrunc bundle commit ${rec.bundle}` }],
    };
    const c = putBlob(store, staging, Buffer.from(JSON.stringify(newConfig)));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: c.digest, size: c.size },
      layers: [...base.layers, { mediaType: MT.layerGzip, digest: packed.digest, size: packed.size }],
    };
    const m = putBlob(store, staging, Buffer.from(JSON.stringify(manifest)));
    const r = parseRef(ref);
    store.locked(() => store.tag(r.name, r.tag ?? 'latest', { mediaType: MT.manifest, digest: m.digest, size: m.size }));
    return { name: `${r.name}:${r.tag ?? 'latest'}`, digest: m.digest, layer: packed.digest };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
