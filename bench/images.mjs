#!/usr/bin/env node
// Images to bundles: tsrunc (image import + bundle create) against `umoci unpack`, interleaved, same image.
// Also: a second bundle from an image already in the store (time, bytes written), and the disk used by
// 10 bundles of one image against 10 umoci unpacks; then a Debian container runs from one of the bundles.
// Runs in a private mount namespace (overlay mounts die with it).
// The image (one gzip layer, written as an OCI layout by this script: tar + gzip + JSON):
//   default      a Debian bookworm rootfs from `debootstrap --variant=minbase` (~90 s and ~60 MB of downloads
//                from the Debian mirror each run: too slow for the test suite, so it lives here only);
//   --rootfs DIR  a rootfs made before (e.g. by an earlier `debootstrap --variant=minbase bookworm DIR`);
//   --python      busybox + /usr/lib/python3.11 (two layers, no network).
// Usage: node bench/images.mjs [--rounds N] [--rootfs DIR | --python] [--mirror URL]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSRUNC = join(REPO, 'dist/tsrunc.cjs');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROUNDS = Number(arg('--rounds', 3));
const PYTHON = process.argv.includes('--python');
const ROOTFS = arg('--rootfs');
const MIRROR = arg('--mirror', 'http://deb.debian.org/debian');

if (process.env.TSRUNC_BENCH_NS !== '1') {
  const env = { ...process.env, TSRUNC_BENCH_NS: '1' };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
delete process.env.NODE_EXTRA_CA_CERTS;

const work = mkdtempSync(join(tmpdir(), 'tsrunc-bench-images-'));
const sh = (cmd, args, opts = {}) => String(execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }) ?? '');
const ms = (f) => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const du = (...paths) => Number(sh('du', ['-scbx', ...paths]).trim().split('\n').pop().split('\t')[0]);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

/** The layer directories: [busybox, python3.11 under /usr/lib], or [a Debian rootfs] (made here unless given). */
function layerDirs() {
  if (PYTHON) {
    const bb = join(work, 'bb');
    sh(process.execPath, [join(REPO, 'dist/make-bundle.cjs'), bb]);
    const big = join(work, 'big');
    mkdirSync(join(big, 'usr/lib'), { recursive: true });
    sh('cp', ['-a', '/usr/lib/python3.11', join(big, 'usr/lib/')]);
    return { name: 'busybox + /usr/lib/python3.11', dirs: [join(bb, 'rootfs'), big], made: [bb, big] };
  }
  if (ROOTFS) return { name: `Debian rootfs ${ROOTFS}`, dirs: [ROOTFS], made: [] };
  const rootfs = join(work, 'debian');
  const took = ms(() => sh('debootstrap', ['--variant=minbase', 'bookworm', rootfs, MIRROR], { stdio: ['ignore', 'ignore', 'inherit'] }));
  return { name: `Debian bookworm minbase (debootstrap: ${(took / 1000).toFixed(0)} s)`, dirs: [rootfs], made: [rootfs] };
}

/** An OCI layout with one gzip layer per directory (tar keeps numeric owners and xattrs). */
function makeImage() {
  const { name, dirs, made } = layerDirs();
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const layers = [];
  for (const dir of dirs) {
    const tar = join(work, 'layer.tar');
    // Without the .debs debootstrap leaves in apt's cache (Debian's own images drop them too).
    sh('tar', ['-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--exclude=./var/cache/apt/archives/*.deb', '-cf', tar, '.']);
    const diffId = 'sha256:' + createHash('sha256').update(readFileSync(tar)).digest('hex');
    sh('gzip', ['-1', '-f', tar]);
    const gz = readFileSync(tar + '.gz');
    const digest = 'sha256:' + createHash('sha256').update(gz).digest('hex');
    writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), gz);
    rmSync(tar + '.gz');
    layers.push({ diffId, digest, size: gz.length });
  }
  const put = (obj) => {
    const data = JSON.stringify(obj);
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const Env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  const config = put({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } });
  const manifest = put({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  });
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }],
  }));
  for (const d of made) rmSync(d, { recursive: true, force: true });
  return { layout, name, layers: layers.length, bytes: layers.reduce((s, l) => s + l.size, 0) };
}

const tsrunc = (store, ...args) => sh(process.execPath, [TSRUNC, '--store', store, ...args]);

try {
  const { layout, name, layers, bytes } = makeImage();
  console.log(`image: ${name}, ${mb(bytes)} compressed, ${layers} layer(s); ${ROUNDS} interleaved rounds`);
  const t = { tsrunc: [], umoci: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['umoci', 'tsrunc'] : ['tsrunc', 'umoci'];
    for (const who of order) {
      const dir = join(work, `${who}-${r}`);
      // Start each run with no dirty pages of the one before (its writeback would slow this one down).
      sh('sync', []);
      if (who === 'tsrunc') {
        t.tsrunc.push(ms(() => {
          tsrunc(join(dir, 'store'), 'image', 'import', `${layout}:bench`, '--tag', 'bench');
          tsrunc(join(dir, 'store'), 'bundle', 'create', '--image', 'bench', join(dir, 'b'));
        }));
        tsrunc(join(dir, 'store'), 'bundle', 'rm', join(dir, 'b'));
      } else {
        t.umoci.push(ms(() => sh('umoci', ['unpack', '--image', `${layout}:bench`, join(dir, 'b')])));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const [a, b] = [median(t.tsrunc), median(t.umoci)];
  const all = (xs) => xs.map((x) => (x / 1000).toFixed(1)).join(' ');
  console.log(`import+unpack+bundle: tsrunc ${a.toFixed(0)} ms, umoci unpack ${b.toFixed(0)} ms (median); umoci/tsrunc = ${(b / a).toFixed(2)}x ` +
    `(each, s: tsrunc ${all(t.tsrunc)}, umoci ${all(t.umoci)})`);

  // A store holding the image; then bundles from it.
  const store = join(work, 'store');
  tsrunc(store, 'image', 'import', `${layout}:bench`, '--tag', 'bench');
  const bundles = [];
  const second = [];
  for (let i = 0; i < 10; i++) {
    const b = join(work, `bundle-${i}`);
    bundles.push(b);
    second.push(ms(() => tsrunc(store, 'bundle', 'create', '--image', 'bench', b)));
  }
  const perBundle = du(...bundles) / bundles.length;
  const version = [];
  for (let i = 0; i < 5; i++) version.push(ms(() => sh(process.execPath, [TSRUNC, '--version'])));
  // In process: the library call alone (what an engine embedding it pays), no node start.
  const lib = (await import(join(REPO, 'dist/lib/bundles.cjs'))).default;
  const s = new lib.Store(store);
  const inproc = [];
  const layersBefore = du(join(store, 'layers'));
  for (let i = 0; i < 10; i++) {
    const b = join(work, `lib-${i}`);
    inproc.push(ms(() => lib.createBundle(s, b, { image: 'bench' })));
    bundles.push(b);
  }
  console.log(`second bundle from a stored image: library call median ${median(inproc).toFixed(1)} ms; whole CLI call median ` +
    `${median(second.slice(1)).toFixed(0)} ms (tsrunc --version alone: ${median(version).toFixed(0)} ms on this machine now); ` +
    `${perBundle.toFixed(0)} bytes written per bundle (config.json + empty upper/work), layer store ${du(join(store, 'layers')) === layersBefore ? 'unchanged (0 bytes copied)' : 'CHANGED'}`);
  const ts10 = du(join(store, 'layers'), ...bundles.slice(0, 10));
  const umociDirs = [];
  for (let i = 0; i < 10; i++) {
    const d = join(work, `umoci-${i}`);
    umociDirs.push(d);
    sh('umoci', ['unpack', '--image', `${layout}:bench`, d]);
  }
  const um10 = du(...umociDirs);
  console.log(`disk for 10 bundles: tsrunc ${mb(ts10)} (unpacked layers once + 10 bundles), umoci ${mb(um10)}; ratio ${(um10 / ts10).toFixed(1)}x`);
  // The image runs: a container from one more bundle (what it sees of Debian, or of python).
  const probe = PYTHON
    ? 'ls /usr/lib/python3.11 | wc -l; busybox | head -1'
    : 'echo debian $(cat /etc/debian_version); dpkg-query -W | wc -l; apt-get --version | head -1';
  const rb = join(work, 'run-bundle');
  tsrunc(store, 'bundle', 'create', '--image', 'bench', rb, 'sh', '-c', probe);
  bundles.push(rb);
  const seen = sh(process.execPath, [TSRUNC, '--root', join(work, 'state'), 'run', '-b', rb, 'bench-probe']).trim().split('\n');
  console.log(`container from a bundle: ${seen.join(' | ')}`);
  for (const b of bundles) tsrunc(store, 'bundle', 'rm', b);
} finally {
  rmSync(work, { recursive: true, force: true });
}
