// `bundle create`, `bundle mount`, `bundle rm`. A bundle records its image and layers in
// BUNDLE/.layer/bundle.json (so rm and mount need no --store) and in the store's bundles/ (so `image rm`
// can refuse while it exists).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BundleRecord } from '../image/manage';
import { Store } from '../image/store';
import { IMAGE_NAME, type ImageConfig, type Manifest } from '../image/types';
import { convertConfig, type ConvertOptions } from './convert';
import { flatRootfs, mountOverlay, unmountRootfs } from './rootfs';
import { imageVolumes, parseVolume, populateVolume } from './volumes';

export interface CreateOptions extends Omit<ConvertOptions, 'volumes'> {
  image: string;
  volumes?: string[];
  /** Told when the rootfs is a flat copy instead of an overlay. */
  notice?: (message: string) => void;
}

export interface LocalRecord extends BundleRecord {
  store: string;
  volumes: string[];
}

/** FNV-1a (64 bit) of the bundle path: a file name without loading node:crypto (bundle create is hot). */
function recordFile(store: Store, bundle: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(bundle)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return join(store.root, 'bundles', h.toString(16).padStart(16, '0') + '.json');
}

export function readLocal(bundleArg: string): LocalRecord {
  const bundle = resolve(bundleArg);
  const file = join(bundle, '.layer', 'bundle.json');
  if (!existsSync(file)) throw new Error(`${bundle} is not a bundle made by \`bundle create\` (no .layer/bundle.json)`);
  return JSON.parse(readFileSync(file, 'utf8')) as LocalRecord;
}

/** Mounts (or for a flat bundle, checks) the rootfs; returns whether it is an overlay. */
function makeRootfs(bundle: string, lowers: string[], notice?: (m: string) => void): boolean {
  try {
    mountOverlay(bundle, lowers);
    return true;
  } catch (e) {
    notice?.(`overlayfs cannot be used (${(e as Error).message}): the rootfs is a flat copy of the layers`);
    rmSync(join(bundle, '.layer', 'upper'), { recursive: true, force: true });
    rmSync(join(bundle, '.layer', 'work'), { recursive: true, force: true });
    flatRootfs(bundle, lowers);
    return false;
  }
}

export function createBundle(store: Store, bundleArg: string, o: CreateOptions): LocalRecord {
  const bundle = resolve(bundleArg);
  if (existsSync(join(bundle, 'config.json')) || existsSync(join(bundle, 'rootfs'))) {
    throw new Error(`${bundle} already holds a bundle (config.json or rootfs exists)`);
  }
  const desc = store.find(o.image);
  const manifest = store.readJson<Manifest>(desc.digest);
  const image = store.readJson<ImageConfig>(manifest.config.digest);
  const layers = image.rootfs.diff_ids;
  const lowers = layers.map((id) => store.layerDir(id));
  for (const l of lowers) if (!existsSync(l)) throw new Error(`layer ${l} is missing from the store: import the image again`);
  if (!lowers.length) throw new Error(`image ${o.image} has no layers`);
  const fresh = !existsSync(bundle);
  mkdirSync(join(bundle, '.layer'), { recursive: true });
  try {
    const overlay = makeRootfs(bundle, lowers, o.notice);
    const volumesRoot = join(store.root, 'volumes');
    const given = (o.volumes ?? []).map((v) => parseVolume(v, volumesRoot));
    const anon = imageVolumes(image.config?.Volumes, given, volumesRoot);
    for (const v of [...given, ...anon]) populateVolume(join(bundle, 'rootfs'), v);
    const spec = convertConfig(image, join(bundle, 'rootfs'), { ...o, volumes: [...given, ...anon] });
    const record: LocalRecord = {
      bundle,
      image: desc.annotations?.[IMAGE_NAME] ?? o.image,
      manifest: desc.digest,
      layers,
      overlay,
      store: store.root,
      volumes: [...given, ...anon].flatMap((v) => (v.volume ? [v.volume] : [])),
    };
    writeFileSync(join(bundle, '.layer', 'bundle.json'), JSON.stringify(record, null, 2) + '\n');
    store.locked(() => writeFileSync(recordFile(store, bundle), JSON.stringify(record) + '\n'));
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
    return record;
  } catch (e) {
    unmountRootfs(bundle);
    if (fresh) rmSync(bundle, { recursive: true, force: true });
    else for (const f of ['.layer', 'rootfs', 'config.json']) rmSync(join(bundle, f), { recursive: true, force: true });
    throw e;
  }
}

/** Re-mounts the overlay (after a reboot or an unmount). */
export function mountBundle(bundleArg: string): LocalRecord {
  const rec = readLocal(bundleArg);
  const store = new Store(rec.store);
  if (rec.overlay) mountOverlay(rec.bundle, rec.layers.map((id) => store.layerDir(id)));
  return rec;
}

/** Unmounts and deletes the writable layer, the rootfs and config.json; volumes stay in the store. */
export function removeBundle(bundleArg: string): LocalRecord {
  const rec = readLocal(bundleArg);
  const store = new Store(rec.store);
  unmountRootfs(rec.bundle);
  for (const f of ['rootfs', 'config.json', '.layer']) rmSync(join(rec.bundle, f), { recursive: true, force: true });
  if (readdirSync(rec.bundle).length === 0) rmSync(rec.bundle, { recursive: true, force: true });
  store.locked(() => rmSync(recordFile(store, rec.bundle), { force: true }));
  return rec;
}
