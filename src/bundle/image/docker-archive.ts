// Reads a `docker save` archive: its files are unpacked (regular files only, through the same path checks as
// layers) into a staging dir, then manifest.json names the config and the uncompressed layer tars. The image
// gets an OCI manifest whose layer digests are the layer tars' sha256 (which the config's diff_ids must match).
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { entryComponents, SafeRoot } from '../layers/safe-path';
import { sha256, sha256File, verifyDigest } from './digest';
import { readOciLayout, type Platform, type SourceImage } from './oci-source';
import { MT, type Manifest } from './types';

async function untarFiles(tarFile: string, dest: string): Promise<void> {
  const safe = new SafeRoot(dest);
  const tar = extract();
  tar.on('entry', (h, stream, next) => {
    // A failed entry destroys the extract, which errors the entry stream too: the pipeline reports it once.
    stream.on('error', () => undefined);
    try {
      const parts = entryComponents(h.name);
      if (h.type !== 'file' || parts.length === 0) {
        stream.resume();
        return stream.on('end', () => next());
      }
      const fd = openSync(safe.prepare(parts, h.name), 'wx', 0o600);
      stream.on('data', (c: Buffer) => {
        for (let off = 0; off < c.length; ) off += writeSync(fd, c, off);
      });
      stream.on('end', () => {
        closeSync(fd);
        next();
      });
    } catch (e) {
      stream.resume();
      next(e as Error);
    }
  });
  await pipeline(createReadStream(tarFile, { highWaterMark: 1 << 20 }), tar);
}

/** `tag` picks among RepoTags ("name:tag"); default the first image of the archive. */
export async function readDockerArchive(tarFile: string, staging: string, platform: Platform, tag?: string): Promise<SourceImage> {
  mkdirSync(staging, { recursive: true });
  await untarFiles(tarFile, staging);
  // Docker 25+ writes an OCI layout inside the archive.
  if (existsSync(join(staging, 'index.json')) && existsSync(join(staging, 'oci-layout')) && !tag) {
    return readOciLayout(staging, platform);
  }
  const file = join(staging, 'manifest.json');
  if (!existsSync(file)) throw new Error(`${tarFile}: not a docker-archive (no manifest.json) nor an OCI layout`);
  const entries = JSON.parse(readFileSync(file, 'utf8')) as { Config: string; RepoTags?: string[]; Layers: string[] }[];
  const entry = tag ? entries.find((e) => e.RepoTags?.some((t) => t === tag || t.endsWith(`:${tag}`))) : entries[0];
  if (!entry) throw new Error(`${tarFile}: no image ${tag ? `tagged "${tag}"` : ''} in manifest.json`);
  const configBytes = readFileSync(join(staging, ...entryComponents(entry.Config)));
  const configDigest = sha256(configBytes);
  // The config file is named by its own digest.
  const named = /([a-f0-9]{64})\.json$/.exec(entry.Config);
  if (named) verifyDigest(configDigest, `sha256:${named[1]}`, `config ${entry.Config}`);
  const layerFiles = entry.Layers.map((l) => join(staging, ...entryComponents(l)));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: { mediaType: MT.config, digest: configDigest, size: configBytes.length },
    layers: layerFiles.map((f) => ({ mediaType: MT.layerTar, digest: sha256File(f), size: statSync(f).size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest, manifestBytes, config: JSON.parse(configBytes.toString('utf8')), configBytes, layerFiles, suggestedName: entry.RepoTags?.[0],
  };
}
