// A docker-archive image tar (the `docker save` layout: layer tar, config JSON, manifest.json,
// repositories) made from a busybox rootfs, which both `ctr image import` and `docker load` accept.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';

export interface ImageArchive {
  /** The .tar to import. */
  tar: string;
  /** Name as tagged in the archive, e.g. `tsrunc-test/busybox:latest`. */
  tag: string;
  /** The same name as containerd stores it (docker.io/... normalised). */
  ctrRef: string;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export interface ImageOptions {
  repo?: string;
  tag?: string;
  /** Extra empty directories in the rootfs (e.g. `run`, which busybox images lack and most distro images have). */
  dirs?: string[];
  /** Files copied into the rootfs: path in the image -> host file (mode kept), e.g. a pause binary. */
  files?: Record<string, string>;
  /** The image's Cmd (default `sh`). */
  cmd?: string[];
}

/** Builds the archive in `dir` (created); the rootfs is Debian's busybox-static plus a few /etc files. */
export function makeBusyboxImage(dir: string, opts: ImageOptions = {}): ImageArchive {
  const repo = opts.repo ?? 'tsrunc-test/busybox';
  const tagName = opts.tag ?? 'latest';
  const rootfs = join(dir, 'rootfs');
  const tree = join(dir, 'archive');
  mkdirSync(tree, { recursive: true });
  makeBusyboxRootfs(rootfs);
  for (const d of opts.dirs ?? []) mkdirSync(join(rootfs, d), { recursive: true, mode: 0o755 });
  for (const [to, from] of Object.entries(opts.files ?? {})) copyFileSync(from, join(rootfs, to));

  // Reproducible layer: sorted names, fixed times, numeric owners.
  const layerTmp = join(dir, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', layerTmp, '.']);
  const layer = readFileSync(layerTmp);
  const diffId = sha256(layer);
  mkdirSync(join(tree, diffId));
  writeFileSync(join(tree, diffId, 'layer.tar'), layer);
  writeFileSync(join(tree, diffId, 'VERSION'), '1.0');
  rmSync(layerTmp);

  const created = '1970-01-01T00:00:00Z';
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: opts.cmd ?? ['sh'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created, created_by: 'tsrunc test/engines/image.ts' }],
  });
  const configName = `${sha256(config)}.json`;
  writeFileSync(join(tree, configName), config);
  const tag = `${repo}:${tagName}`;
  writeFileSync(join(tree, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: [`${diffId}/layer.tar`] }]));
  writeFileSync(join(tree, 'repositories'), JSON.stringify({ [repo]: { [tagName]: diffId } }));

  const tar = join(dir, 'image.tar');
  execFileSync('tar', ['--numeric-owner', '-C', tree, '-cf', tar, 'manifest.json', 'repositories', configName, diffId]);
  rmSync(tree, { recursive: true, force: true });
  rmSync(rootfs, { recursive: true, force: true });
  return { tar, tag, ctrRef: `docker.io/${tag}` };
}
