// `image ls` and `image rm`: removing the last tag of an image drops its blobs and the layers no other
// image uses. An image that a bundle was made from cannot be removed (its layers are the bundle's lowerdirs).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from './store';
import { IMAGE_NAME, type ImageConfig, type Manifest } from './types';

export interface ImageInfo {
  name: string;
  digest: string;
  size: number;
  layers: number;
  created?: string;
}

export function listImages(store: Store): ImageInfo[] {
  return store.index().manifests.map((d) => {
    const m = store.readJson<Manifest>(d.digest);
    const c = store.readJson<ImageConfig>(m.config.digest);
    return {
      name: d.annotations?.[IMAGE_NAME] ?? d.digest,
      digest: d.digest,
      size: m.layers.reduce((s, l) => s + l.size, 0),
      layers: m.layers.length,
      created: c.created,
    };
  });
}

export interface BundleRecord {
  bundle: string;
  image: string;
  manifest: string;
  layers: string[];
  overlay: boolean;
}

export function bundleRecords(store: Store): BundleRecord[] {
  const dir = join(store.root, 'bundles');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BundleRecord);
}

export function removeImage(store: Store, ref: string): string {
  return store.locked(() => {
    const desc = store.find(ref);
    const name = desc.annotations?.[IMAGE_NAME];
    // Removing one of several tags of an image only untags it.
    const otherTags = store.index().manifests.some((m) => m.digest === desc.digest && m.annotations?.[IMAGE_NAME] !== name);
    const users = otherTags ? [] : bundleRecords(store).filter((b) => b.manifest === desc.digest);
    if (users.length) throw new Error(`image ${ref} is used by bundle ${users.map((u) => u.bundle).join(', ')}; remove the bundle first`);
    const index = store.index();
    index.manifests = index.manifests.filter((m) => (name ? m.annotations?.[IMAGE_NAME] !== name : m.digest !== desc.digest));
    store.writeIndex(index);
    collectGarbage(store);
    return name ?? desc.digest;
  });
}

/** Deletes blobs and unpacked layers that no tagged image references. */
function collectGarbage(store: Store): void {
  const blobs = new Set<string>();
  const layers = new Set<string>();
  for (const d of store.index().manifests) {
    const m = store.readJson<Manifest>(d.digest);
    const c = store.readJson<ImageConfig>(m.config.digest);
    blobs.add(d.digest.slice(7)).add(m.config.digest.slice(7));
    for (const l of m.layers) blobs.add(l.digest.slice(7));
    for (const id of c.rootfs.diff_ids) layers.add(id.slice(7));
  }
  for (const b of bundleRecords(store)) for (const id of b.layers) layers.add(id.slice(7));
  const blobDir = join(store.root, 'blobs/sha256');
  for (const f of readdirSync(blobDir)) if (!blobs.has(f)) rmSync(join(blobDir, f), { force: true });
  const layerDir = join(store.root, 'layers');
  for (const f of existsSync(layerDir) ? readdirSync(layerDir) : []) if (!layers.has(f)) rmSync(join(layerDir, f), { recursive: true, force: true });
}
