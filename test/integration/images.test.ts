// Images to bundles (issue 11): import an OCI layout / docker-archive made here, bundle it on overlayfs and
// run it with tsrunc; whiteouts, opaque dirs, links, devices, owners, xattrs as the container sees them;
// writes landing in the upper dir only; volumes outliving `bundle rm`; commit; hostile and corrupt layers.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { native } from '../../src/runtime/native';
import { runId, TSRUNC_CJS, tsrunc, uniqueId } from '../helpers';
import { removeTree } from '../helpers/fs';
import { CAP_NET_RAW, dirLayer, entriesLayer, featureLayers, newLayout, writeImage, type BuiltLayer } from './images-fixture';

const work = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-images-`));
const store = join(work, 'store');
const layout = newLayout(join(work, 'layout'));
const bundles: string[] = [];
let base: BuiltLayer;
let layers: BuiltLayer[];

const fs = native() as unknown as { lgetxattr(p: string, n: string): Buffer | null };

function cli(args: string[], env?: Record<string, string>) {
  return tsrunc(['--store', store, ...args], { env, timeout: 60_000 });
}

async function ok(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await cli(args, env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function bundleDir(): string {
  const d = join(work, uniqueId('b'));
  bundles.push(d);
  return d;
}

/** Runs the bundle's container to completion; its stdout. */
async function run(bundle: string): Promise<string> {
  const id = uniqueId('img');
  const r = await tsrunc(['run', '--bundle', bundle, id], { timeout: 60_000 });
  await tsrunc(['delete', '--force', id]).catch(() => undefined);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function storeState(): string {
  const index = existsSync(join(store, 'index.json')) ? readFileSync(join(store, 'index.json'), 'utf8') : '';
  return JSON.stringify([index, readdirSync(join(store, 'layers')).sort(), readdirSync(join(store, 'blobs/sha256')).sort()]);
}

beforeAll(async () => {
  const rootfs = join(work, 'busybox');
  makeBusyboxRootfs(rootfs);
  base = await dirLayer(layout, rootfs);
  layers = [base];
  for (const entries of featureLayers()) layers.push(await entriesLayer(layout, entries));
  writeImage(layout, 'v1', layers, {
    Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=from-image'],
    Cmd: ['sh', '-c', 'echo default cmd'],
    WorkingDir: '/data',
    User: 'app',
    Volumes: { '/vol': {} },
    Labels: { 'org.example.label': 'yes' },
    StopSignal: 'SIGUSR1',
    ExposedPorts: { '80/tcp': {} },
  });
}, 120_000);

afterAll(async () => {
  for (const b of bundles) if (existsSync(join(b, '.layer'))) await cli(['bundle', 'rm', b]);
  removeTree(work);
});

describe('image import', () => {
  it('imports an OCI layout by tag, verifies and lists it', async () => {
    expect(await ok(['image', 'import', `${layout}:v1`, '--tag', 'fixture:v1'])).toContain('fixture:v1');
    const list = JSON.parse(await ok(['image', 'ls', '--format', 'json'])) as { name: string; layers: number }[];
    expect(list).toContainEqual(expect.objectContaining({ name: 'fixture:v1', layers: 3 }));
    // Layers are stored once, by diffID; a second import unpacks nothing.
    expect(readdirSync(join(store, 'layers')).sort()).toEqual(layers.map((l) => l.diffId.slice(7)).sort());
    expect(await ok(['image', 'import', `${layout}:v1`, '--tag', 'fixture:again'])).toContain('0 unpacked');
  });

  it('refuses a corrupted blob, leaving the store unchanged', async () => {
    const bad = join(work, 'corrupt');
    cpSync(layout, bad, { recursive: true });
    const file = join(bad, 'blobs/sha256', layers[2]!.digest.slice(7));
    const data = readFileSync(file);
    data[data.length - 12]! ^= 0xff;
    writeFileSync(file, data);
    const before = storeState();
    const r = await cli(['image', 'import', `${bad}:v1`, '--tag', 'corrupt:v1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/digest mismatch/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(storeState()).toBe(before);
    expect(readdirSync(join(store, 'tmp'))).toEqual([]);
  });

  it.each([
    ['a "../" entry', [{ name: '../escaped', body: 'x' }], /leaves the layer/],
    ['a symlink parent', [{ name: 'evil', type: 'symlink', linkname: 'OUTSIDE' }, { name: 'evil/pwned', body: 'x' }], /not a directory/],
    ['a hardlink to a host file', [{ name: 'hl', type: 'link', linkname: '../../../../../../etc/shadow' }], /leaves the layer/],
  ] as const)('refuses a layer with %s and writes nothing outside it', async (_what, entries, message) => {
    const outside = mkdtempSync(join(work, 'outside-'));
    const evil = newLayout(mkdtempSync(join(work, 'evil-')));
    cpSync(join(layout, 'blobs/sha256', base.digest.slice(7)), join(evil, 'blobs/sha256', base.digest.slice(7)));
    const fixed = (entries as readonly any[]).map((e) => (e.linkname === 'OUTSIDE' ? { ...e, linkname: outside } : e));
    const l = await entriesLayer(evil, fixed);
    writeImage(evil, 'evil', [base, l]);
    const before = storeState();
    const r = await cli(['image', 'import', `${evil}:evil`, '--tag', 'evil:1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(store, 'tmp', 'escaped'))).toBe(false);
    expect(storeState()).toBe(before);
  });
  it('refuses a docker-archive with a "../" entry in one error line', async () => {
    const tar = join(work, 'evil-archive.tar');
    const p = pack();
    p.entry({ name: 'x/../../escaped-archive' }, 'x');
    p.finalize();
    await pipeline(p, createWriteStream(tar));
    const r = await cli(['image', 'import', tar, '--tag', 'evil:archive']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe('tsrunc: image import: entry path "x/../../escaped-archive" leaves the layer ("..")\n');
    expect(existsSync(join(store, 'escaped-archive'))).toBe(false);
  });

  it('non-distributable layers: unpacked when present, a clear error when only their urls are given', async () => {
    const nd = newLayout(mkdtempSync(join(work, 'nondist-')));
    cpSync(join(layout, 'blobs/sha256', base.digest.slice(7)), join(nd, 'blobs/sha256', base.digest.slice(7)));
    const l = await entriesLayer(nd, [{ name: 'foreign', body: 'here\n' }]);
    const mt = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
    writeImage(nd, 'present', [base, { ...l, mediaType: mt }], { Cmd: ['cat', '/foreign'] });
    await ok(['image', 'import', `${nd}:present`, '--tag', 'nondist:1']);
    const b = bundleDir();
    await ok(['bundle', 'create', '--image', 'nondist:1', '--no-seccomp', b]);
    expect(await run(b)).toBe('here\n');
    await ok(['bundle', 'rm', b]);
    const absent = { ...l, mediaType: mt, digest: 'sha256:' + 'ab'.repeat(32) };
    writeImage(nd, 'absent', [base, absent]);
    const r = await cli(['image', 'import', `${nd}:absent`, '--tag', 'nondist:2']);
    expect(r.stderr).toMatch(/is non-distributable and not in the source/);
  });

  it('imports a zstd layer, and picks linux/amd64 (or --platform) from a multi-platform index', async () => {
    const multi = newLayout(mkdtempSync(join(work, 'multi-')));
    cpSync(join(layout, 'blobs/sha256', base.digest.slice(7)), join(multi, 'blobs/sha256', base.digest.slice(7)));
    const z = await entriesLayer(multi, [{ name: 'which', body: 'zstd-amd64\n' }]);
    // Recompress the layer with zstd (same diffID).
    const gz = join(multi, 'blobs/sha256', z.digest.slice(7));
    const raw = execFileSync('gzip', ['-dc', gz]);
    const zst = execFileSync('zstd', ['-q', '-c'], { input: raw });
    const digest = 'sha256:' + createHash('sha256').update(zst).digest('hex');
    writeFileSync(join(multi, 'blobs/sha256', digest.slice(7)), zst);
    const zl = { ...z, digest, size: zst.length, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' };
    const arm = await entriesLayer(multi, [{ name: 'which', body: 'arm64\n' }]);
    const amdManifest = writeImage(multi, 'amd', [base, zl], { Cmd: ['cat', '/which'] });
    const armManifest = writeImage(multi, 'arm', [base, arm], { Cmd: ['cat', '/which'] });
    const blobOf = (d: string) => readFileSync(join(multi, 'blobs/sha256', d.slice(7)));
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: armManifest, size: blobOf(armManifest).length, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amdManifest, size: blobOf(amdManifest).length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    });
    const indexDigest = 'sha256:' + createHash('sha256').update(index).digest('hex');
    writeFileSync(join(multi, 'blobs/sha256', indexDigest.slice(7)), index);
    writeFileSync(join(multi, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
    }));
    await ok(['image', 'import', `${multi}:multi`, '--tag', 'multi:amd']);
    await ok(['image', 'import', `${multi}:multi`, '--tag', 'multi:arm', '--platform', 'linux/arm64']);
    const bad = await cli(['image', 'import', `${multi}:multi`, '--tag', 'multi:s390', '--platform', 'linux/s390x']);
    expect(bad.stderr).toMatch(/no manifest for linux\/s390x \(has linux\/arm64, linux\/amd64\)/);
    for (const [tag, want] of [['amd', 'zstd-amd64\n'], ['arm', 'arm64\n']]) {
      const b = bundleDir();
      await ok(['bundle', 'create', '--image', `multi:${tag}`, '--no-seccomp', b]);
      expect(await run(b)).toBe(want);
      await ok(['bundle', 'rm', b]);
    }
  });

  it('an import killed half-way through unpacking leaves nothing visible', async () => {
    const big = newLayout(mkdtempSync(join(work, 'big-')));
    // 300 MB of zeros: tiny compressed, long to write out.
    const l = await entriesLayer(big, [{ name: 'zeros', body: Buffer.alloc(300 << 20) }]);
    writeImage(big, 'big', [l]);
    const before = storeState();
    const child = spawn(process.execPath, [TSRUNC_CJS, '--store', store, 'image', 'import', `${big}:big`, '--tag', 'big:1'], { stdio: 'ignore' });
    const started = Date.now();
    const partial = () => readdirSync(join(store, 'tmp')).some((d) => existsSync(join(store, 'tmp', d, 'layer-0', 'zeros')));
    while (!partial() && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
    expect(partial()).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(storeState()).toBe(before);
    expect(readdirSync(join(store, 'layers'))).not.toContain(l.diffId.slice(7));
    // The next import sweeps the dead import's staging away.
    await ok(['image', 'import', `${layout}:v1`, '--tag', 'fixture:v1']);
    expect(readdirSync(join(store, 'tmp'))).toEqual([]);
  });
});

describe('bundle from an image', () => {
  it('runs the image as the container sees it: whiteouts, opaque dirs, links, devices, owners, user, env', async () => {
    const b = bundleDir();
    const script = [
      'pwd; id -u; id -G; echo $FOO; cat a; test -e b && echo has-b; ls /olddir | tr "\\n" " "; echo',
      'stat -c "%i" a hl | uniq | wc -l; readlink link; stat -c "%u:%g %a" owned; stat -c "%a" suid',
      'stat -c "%F %t,%T" cnull; stat -c "%F" fifo; cat /etc/motd',
    ].join('; ');
    await ok(['bundle', 'create', '--image', 'fixture:v1', b, 'sh', '-c', script]);
    const out = (await run(b)).split('\n');
    expect(out.slice(0, 14)).toEqual([
      '/data', '1000', '1000 2000', 'from-image', 'alpha', 'new ', '1', 'a', '1000:1000 640', '4755',
      'character special file 1,3', 'fifo', 'layer three', '',
    ]);
    // xattrs (user.* and the binary security.capability) through the overlay.
    expect(fs.lgetxattr(join(b, 'rootfs/data/a'), 'user.note')?.toString()).toBe('hello');
    expect(fs.lgetxattr(join(b, 'rootfs/data/capped'), 'security.capability')).toEqual(CAP_NET_RAW);
    const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
    expect(config.annotations).toMatchObject({
      'org.example.label': 'yes',
      'org.opencontainers.image.stopSignal': 'SIGUSR1',
      'org.opencontainers.image.exposedPorts': '80/tcp',
      'org.opencontainers.image.os': 'linux',
    });
    expect(config.linux.seccomp).toBeDefined();
    expect(config.mounts).toContainEqual(expect.objectContaining({ destination: '/vol', type: 'bind' }));
  });

  it('writes land in the upper dir only; a second bundle shares the layers and sees the image unchanged', async () => {
    const b1 = bundleDir();
    await ok(['bundle', 'create', '--image', 'fixture:v1', '--user', 'root', b1, 'sh', '-c', 'echo w > /data/new; rm /data/a; echo more >> /etc/motd']);
    await run(b1);
    const upper = join(b1, '.layer/upper');
    expect(readFileSync(join(upper, 'data/new'), 'utf8')).toBe('w\n');
    const wh = lstatSync(join(upper, 'data/a'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    const layer2 = join(store, 'layers', layers[1]!.diffId.slice(7));
    expect(readFileSync(join(layer2, 'data/a'), 'utf8')).toBe('alpha\n');
    const b2 = bundleDir();
    await ok(['bundle', 'create', '--image', 'fixture:v1', b2, 'sh', '-c', 'cat /data/a; cat /etc/motd; test -e /data/new || echo no-new']);
    expect(await run(b2)).toBe('alpha\nlayer three\nno-new\n');
    expect(readdirSync(join(b2, '.layer/upper'))).toEqual([]);
  });

  it('commits a bundle to a new image that imports back and runs', async () => {
    const b = bundleDir();
    await ok(['bundle', 'create', '--image', 'fixture:v1', '--user', 'root', b, 'sh', '-c', 'echo committed > /data/c; rm /data/owned; rm -r /olddir; mkdir /olddir; echo fresh > /olddir/f']);
    await run(b);
    expect(await ok(['bundle', 'commit', b, 'fixture:committed'])).toContain('fixture:committed');
    // The store is an OCI layout: import the new image from it into a second store.
    const store2 = join(work, 'store2');
    const r = await tsrunc(['--store', store2, 'image', 'import', `${store}:fixture:committed`, '--tag', 'back:1']);
    expect(r.code, r.stderr).toBe(0);
    const b2 = bundleDir();
    const r2 = await tsrunc(['--store', store2, 'bundle', 'create', '--image', 'back:1', b2, 'sh', '-c', 'cat /data/c; test -e /data/owned || echo gone; ls /olddir']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(await run(b2)).toBe('committed\ngone\nf\n');
    await tsrunc(['--store', store2, 'bundle', 'rm', b2]);
  });

  it('keeps volume data past bundle rm; image rm refuses while a bundle uses the image', async () => {
    // (fixture:committed comes from the commit test; no bundle of this store uses it yet.)
    const b = bundleDir();
    // As user app (the image's User): a new volume gets the image's /vol, its owner and mode included.
    await ok(['bundle', 'create', '--image', 'fixture:committed', '--volume', 'keep:/vol', b, 'sh', '-c', 'cat /vol/seed; stat -c "%u %a" /vol; echo kept > /vol/f']);
    expect(await run(b)).toBe('seeded\n1000 700\n');
    const r = await cli(['image', 'rm', 'fixture:committed']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/used by bundle/);
    await ok(['bundle', 'rm', b]);
    expect(existsSync(b)).toBe(false);
    const b2 = bundleDir();
    await ok(['bundle', 'create', '--image', 'fixture:committed', '--volume', 'keep:/vol', b2, 'cat', '/vol/f']);
    expect(await run(b2)).toBe('kept\n');
    await ok(['bundle', 'rm', b2]);
    const layersBefore = readdirSync(join(store, 'layers')).length;
    await ok(['image', 'rm', 'fixture:committed']);
    // Only the committed layer went; fixture:v1 (used by bundles) keeps its layers.
    expect(readdirSync(join(store, 'layers'))).toHaveLength(layersBefore - 1);
    expect(readdirSync(join(store, 'layers'))).toContain(layers[1]!.diffId.slice(7));
    // A second tag of an image in use is only untagged.
    await ok(['image', 'rm', 'fixture:again']);
    expect(readFileSync(join(store, 'volumes/keep/f'), 'utf8')).toBe('kept\n');
  });

  it('an unknown user is one clear error and leaves no bundle', async () => {
    const b = bundleDir();
    const r = await cli(['bundle', 'create', '--image', 'fixture:v1', '--user', 'nobody:nogroup', b]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/user "nobody": no such user in the image's \/etc\/passwd/);
    expect(existsSync(b)).toBe(false);
  });

  it('falls back to a flat copy where overlayfs cannot be used, and says so', async () => {
    const b = bundleDir();
    const r = await cli(['bundle', 'create', '--image', 'fixture:v1', b, 'sh', '-c', 'cat a; test -e b || echo no-b; ls /olddir'], { TSRUNC_NO_OVERLAY: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/flat copy/);
    expect(await run(b)).toBe('alpha\nno-b\nnew\n');
  });

  it('bundle mount mounts the overlay again (after a reboot), with the writable layer kept', async () => {
    const b = bundleDir();
    await ok(['bundle', 'create', '--image', 'fixture:v1', '--user', '0', b, 'sh', '-c', 'cat /data/mark 2>/dev/null || echo first > /data/mark']);
    await run(b);
    execFileSync('umount', [join(b, 'rootfs')]);
    expect(existsSync(join(b, 'rootfs/bin'))).toBe(false);
    await ok(['bundle', 'mount', b]);
    expect(await run(b)).toBe('first\n');
  });

  it('imports a docker-archive made by skopeo and runs it', async () => {
    const tar = join(work, 'docker.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${layout}:v1`, `docker-archive:${tar}:skopeo/fixture:v1`]);
    expect(await ok(['image', 'import', tar])).toContain('skopeo/fixture:v1');
    const b = bundleDir();
    await ok(['bundle', 'create', '--image', 'skopeo/fixture:v1', b]);
    expect(await run(b)).toBe('default cmd\n');
  });
});
