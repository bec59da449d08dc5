// Reads an image out of an OCI image layout directory: picks the manifest by tag (ref.name annotation),
// by digest, or the only one; resolves a multi-platform index to linux/amd64 or the asked platform; checks
// the digest of every JSON blob it reads. Layer blobs are checked by the importer while it copies them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex, sha256, verifyDigest } from './digest';
import { IMAGE_NAME, MT, REF_NAME, type Descriptor, type ImageConfig, type Index, type Manifest } from './types';

export interface SourceImage {
  manifest: Manifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
  /** The layer blob files, in manifest order (a missing non-distributable one is null). */
  layerFiles: (string | null)[];
  /** A name the source gives the image (a tag in the layout or RepoTags), if any. */
  suggestedName?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(text = 'linux/amd64'): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new Error(`--platform ${text}: expected OS/ARCH[/VARIANT]`);
  return { os, architecture, variant };
}

/** Splits "DIR[:TAG|@sha256:...]" where DIR exists. */
export function splitLayoutRef(arg: string): { dir: string; tag?: string; digest?: string } {
  const at = arg.lastIndexOf('@sha256:');
  if (at > 0) return { dir: arg.slice(0, at), digest: arg.slice(at + 1) };
  if (existsSync(arg)) return { dir: arg };
  // The first ':' after an existing directory: a tsrunc store names images NAME:TAG (DIR:NAME:TAG).
  for (let colon = arg.indexOf(':'); colon > 0; colon = arg.indexOf(':', colon + 1)) {
    if (existsSync(arg.slice(0, colon))) return { dir: arg.slice(0, colon), tag: arg.slice(colon + 1) };
  }
  return { dir: arg };
}

export function readBlob(dir: string, d: Descriptor, what: string): Buffer {
  const file = join(dir, 'blobs', 'sha256', digestHex(d.digest, what));
  if (!existsSync(file)) throw new Error(`${what} ${d.digest}: blob missing from ${dir}`);
  const data = readFileSync(file);
  verifyDigest(sha256(data), d.digest, `${what} blob ${file}`);
  return data;
}

function pickFromTop(index: Index, dir: string, tag?: string, digest?: string): Descriptor {
  const ms = index.manifests ?? [];
  if (digest) {
    const d = ms.find((m) => m.digest === digest);
    // A digest may also name a manifest inside a nested index: let the caller walk it.
    if (d) return d;
    return { mediaType: MT.manifest, digest, size: -1 };
  }
  if (tag) {
    const d = ms.find((m) => m.annotations?.[REF_NAME] === tag || m.annotations?.[IMAGE_NAME] === tag);
    if (!d) throw new Error(`${dir}: no image tagged "${tag}" (tags: ${tags(ms) || 'none'})`);
    return d;
  }
  if (ms.length === 1) return ms[0]!;
  throw new Error(`${dir}: ${ms.length} images in the layout; choose one with ${dir}:TAG or @sha256:... (tags: ${tags(ms) || 'none'})`);
}

function tags(ms: Descriptor[]): string {
  return ms.map((m) => m.annotations?.[REF_NAME]).filter(Boolean).join(', ');
}

function isIndex(mediaType: string | undefined, json: any): boolean {
  return mediaType === MT.index || mediaType === MT.dockerList || (!json.config && Array.isArray(json.manifests));
}

function pickPlatform(index: Index, p: Platform, where: string): Descriptor {
  const ok = index.manifests.filter(
    (m) => m.platform?.os === p.os && m.platform?.architecture === p.architecture && (!p.variant || m.platform?.variant === p.variant),
  );
  if (!ok.length) {
    const have = index.manifests.map((m) => m.platform && `${m.platform.os}/${m.platform.architecture}`).filter(Boolean);
    throw new Error(`${where}: no manifest for ${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''} (has ${have.join(', ') || 'none'})`);
  }
  return ok[0]!;
}

export function readOciLayout(arg: string, platform: Platform): SourceImage {
  const { dir, tag, digest } = splitLayoutRef(arg);
  const indexFile = join(dir, 'index.json');
  if (!existsSync(indexFile)) throw new Error(`${dir}: not an OCI image layout (no index.json)`);
  const top = JSON.parse(readFileSync(indexFile, 'utf8')) as Index;
  let desc = pickFromTop(top, dir, tag, digest);
  const suggestedName = desc.annotations?.[IMAGE_NAME] ?? desc.annotations?.[REF_NAME];
  for (let depth = 0; ; depth++) {
    if (depth > 4) throw new Error(`${dir}: indexes nested too deep`);
    const bytes = readBlob(dir, desc, 'manifest');
    const json = JSON.parse(bytes.toString('utf8'));
    if (isIndex(desc.mediaType === MT.manifest && desc.size < 0 ? json.mediaType : desc.mediaType, json)) {
      desc = digest && (json as Index).manifests.some((m) => m.digest === digest)
        ? (json as Index).manifests.find((m) => m.digest === digest)!
        : pickPlatform(json as Index, platform, `index ${desc.digest}`);
      continue;
    }
    const manifest = json as Manifest;
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new Error(`manifest ${desc.digest}: no config or layers`);
    const configBytes = readBlob(dir, manifest.config, 'config');
    const layerFiles = manifest.layers.map((l) => {
      const file = join(dir, 'blobs', 'sha256', digestHex(l.digest, 'layer'));
      return existsSync(file) ? file : null;
    });
    return { manifest, manifestBytes: bytes, config: JSON.parse(configBytes.toString('utf8')), configBytes, layerFiles, suggestedName };
  }
}
