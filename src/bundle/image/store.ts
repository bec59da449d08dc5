// The store is itself an OCI image layout (so skopeo/umoci/`image import STORE:TAG` can read it), plus the
// unpacked layers by diffID, the volumes, and a record of the bundles made from each image:
//   oci-layout, index.json, blobs/sha256/<hex>   the layout
//   layers/<diffID hex>/                          unpacked, read-only from the rename on
//   volumes/<name>/                               named and anonymous volumes (outlive bundles)
//   bundles/<hash of bundle path>.json            which bundle uses which manifest
//   tmp/                                          staging on the same filesystem (renamed into place)
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../runtime/native';
import { digestHex } from './digest-hex';
import { IMAGE_NAME, MT, REF_NAME, type Descriptor, type Index } from './types';

export function defaultStoreRoot(): string {
  if ((process.geteuid?.() ?? 0) === 0) return '/var/lib/tsrunc';
  const data = process.env.XDG_DATA_HOME || join(process.env.HOME ?? '/tmp', '.local/share');
  return join(data, 'tsrunc');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Store {
  constructor(readonly root: string) {
    for (const d of ['blobs/sha256', 'layers', 'volumes', 'bundles', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    const layout = join(root, 'oci-layout');
    if (!existsSync(layout)) writeFileSync(layout, JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  }

  blob(digest: string): string {
    return join(this.root, 'blobs/sha256', digestHex(digest, 'blob'));
  }

  layerDir(diffId: string): string {
    return join(this.root, 'layers', digestHex(diffId, 'diff_id'));
  }

  /**
   * A fresh staging directory under tmp/ (same filesystem as everything it is renamed to), named after this
   * process; stagings of processes that died (a killed import) are swept away first.
   */
  stage(prefix: string): string {
    const tmp = join(this.root, 'tmp');
    for (const d of readdirSync(tmp)) {
      const pid = Number(/^[a-z]+-(\d+)-/.exec(d)?.[1]);
      if (pid && pid !== process.pid && !alive(pid)) rmSync(join(tmp, d), { recursive: true, force: true });
    }
    return mkdtempSync(join(tmp, `${prefix}${process.pid}-`));
  }

  readJson<T>(digest: string): T {
    return JSON.parse(readFileSync(this.blob(digest), 'utf8')) as T;
  }

  index(): Index {
    const file = join(this.root, 'index.json');
    if (!existsSync(file)) return { schemaVersion: 2, mediaType: MT.index, manifests: [] };
    return JSON.parse(readFileSync(file, 'utf8')) as Index;
  }

  /** Runs `fn` holding an exclusive lock on the store, so concurrent imports/commits do not lose tags. */
  locked<T>(fn: () => T): T {
    const fd = openSync(join(this.root, 'oci-layout'), 'r');
    try {
      native().flock(fd, true, true);
      return fn();
    } finally {
      closeSync(fd);
    }
  }

  writeIndex(index: Index): void {
    const tmp = join(this.root, 'tmp', `index.${process.pid}.json`);
    writeFileSync(tmp, JSON.stringify(index, null, 2) + '\n');
    renameSync(tmp, join(this.root, 'index.json'));
  }

  /** Points NAME:TAG at `manifest` (a tag names one image: any previous holder loses it). */
  tag(name: string, tag: string, manifest: Descriptor): void {
    const full = `${name}:${tag}`;
    const index = this.index();
    index.manifests = index.manifests.filter((m) => m.annotations?.[IMAGE_NAME] !== full);
    index.manifests.push({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      annotations: { [REF_NAME]: tag, [IMAGE_NAME]: full },
    });
    this.writeIndex(index);
  }

  /** The manifest descriptor for NAME[:TAG] or a manifest digest (or a unique prefix of one). */
  find(ref: string): Descriptor {
    const index = this.index();
    const full = ref.includes(':') && !ref.startsWith('sha256:') ? ref : `${ref}:latest`;
    const byName = index.manifests.find((m) => m.annotations?.[IMAGE_NAME] === full);
    if (byName) return byName;
    const hex = ref.replace(/^sha256:/, '');
    const byDigest = /^[a-f0-9]{6,64}$/.test(hex) ? index.manifests.filter((m) => m.digest.slice(7).startsWith(hex)) : [];
    if (new Set(byDigest.map((m) => m.digest)).size === 1) return byDigest[0]!;
    throw new Error(`image ${ref} not found in ${this.root}`);
  }
}
