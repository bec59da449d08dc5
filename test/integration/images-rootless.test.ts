// Images for an unprivileged user (rootless): `image import`, `bundle create`, `run`, `bundle rm` and
// `image rm` as uid 65534 with no privileges and no subordinate ids. The layers keep what the kernel lets an
// unprivileged user keep (whiteouts, opaque dirs as user.overlay.opaque, links, fifos, modes, user.* xattrs)
// and say what they leave out (owners, device nodes, security.* xattrs); the rootfs is a flat copy (mounting
// an overlay needs privileges outside a user namespace); the container maps the caller to root.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { native } from '../../src/runtime/native';
import { childEnv, runId, TSRUNC_CJS, uniqueId } from '../helpers';
import { removeTree } from '../helpers/fs';
import { dirLayer, entriesLayer, featureLayers, newLayout, writeImage, type BuiltLayer } from './images-fixture';

const NOBODY = 65534;
const work = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-images-rootless-`));
const home = join(work, 'home');
const store = join(home, '.local/share/tsrunc');
const layout = newLayout(join(work, 'layout'));
const bundle = join(home, 'bundle');
let layers: BuiltLayer[];

const fs = native() as unknown as { lgetxattr(p: string, n: string): Buffer | null };

/** tsrunc as uid/gid 65534 without groups or capabilities; the rootless defaults (store under $HOME). */
function asNobody(args: string[]) {
  const r = spawnSync(
    'setpriv',
    ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, TSRUNC_CJS, ...args],
    { env: childEnv({ HOME: home, XDG_DATA_HOME: undefined, XDG_RUNTIME_DIR: join(home, 'run') }), encoding: 'utf8', timeout: 60_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  chmodSync(work, 0o755);
  mkdirSync(join(home, 'run'), { recursive: true });
  for (const d of [home, join(home, 'run')]) chownSync(d, NOBODY, NOBODY);
  const rootfs = join(work, 'busybox');
  makeBusyboxRootfs(rootfs);
  layers = [await dirLayer(layout, rootfs)];
  for (const entries of featureLayers()) layers.push(await entriesLayer(layout, entries));
  writeImage(layout, 'v1', layers, { Cmd: ['sh'], User: 'app' });
}, 120_000);

afterAll(() => removeTree(work));

it('imports, bundles and runs an image as an unprivileged user', () => {
  const imported = asNobody(['image', 'import', `${layout}:v1`, '--tag', 'fixture:v1']);
  expect(imported.code, imported.stderr).toBe(0);
  // One notice for the layer with devices and a capability; no owners or devices in the store.
  expect(imported.stderr).toMatch(/^tsrunc: image import: notice: layer 2 \([0-9a-f]{12}\): unprivileged, left out: [^;]+; files are owned by the caller\n$/);
  expect(imported.stderr).toContain('device nodes');
  expect(imported.stderr).toContain('xattr security.capability');
  const layer2 = join(store, 'layers', layers[1]!.diffId.slice(7));
  const layer3 = join(store, 'layers', layers[2]!.diffId.slice(7));
  expect(existsSync(join(layer2, 'data/cnull'))).toBe(false);
  expect(lstatSync(join(layer2, 'data/owned')).uid).toBe(NOBODY);
  expect(fs.lgetxattr(join(layer2, 'data/a'), 'user.note')?.toString()).toBe('hello');
  const wh = lstatSync(join(layer3, 'data/b'));
  expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
  expect(fs.lgetxattr(join(layer3, 'olddir'), 'user.overlay.opaque')?.toString()).toBe('y');
  expect(fs.lgetxattr(join(layer3, 'olddir'), 'trusted.overlay.opaque')).toBeNull();

  // The image's User (app, 1000) is not mapped in a rootless container: one clear error, no bundle.
  const refused = asNobody(['bundle', 'create', '--image', 'fixture:v1', bundle]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/\ntsrunc: bundle create: user "app" is 1000:1000 \(groups 2000\), but a rootless container maps only the caller, as 0:0: use --user root\n$/);
  expect(existsSync(bundle)).toBe(false);

  const script = 'id -u; cat /data/a; test -e /data/b || echo no-b; ls /olddir; cat /etc/motd; stat -c "%u %a" /data/owned /data/suid; ' +
    'stat -c "%i" /data/a /data/hl | uniq | wc -l; readlink /data/link; stat -c %F /data/fifo; test -e /data/cnull || echo no-cnull; echo w > /data/new';
  const created = asNobody(['bundle', 'create', '--image', 'fixture:v1', '--user', 'root', bundle, 'sh', '-c', script]);
  expect(created.code, created.stderr).toBe(0);
  expect(created.stderr).toMatch(/overlayfs cannot be used .*flat copy/);
  const ran = asNobody(['run', '-b', bundle, uniqueId('rlimg')]);
  expect(ran.code, ran.stderr).toBe(0);
  expect(ran.stdout).toBe(['0', 'alpha', 'no-b', 'new', 'layer three', '0 640', '0 4755', '1', 'a', 'fifo', 'no-cnull', ''].join('\n'));
  // The write stayed in the bundle; the stored layer is unchanged.
  expect(readFileSync(join(bundle, 'rootfs/data/new'), 'utf8')).toBe('w\n');
  expect(readdirSync(join(layer2, 'data'))).not.toContain('new');

  expect(asNobody(['bundle', 'rm', bundle]).code).toBe(0);
  expect(existsSync(bundle)).toBe(false);
  const removed = asNobody(['image', 'rm', 'fixture:v1']);
  expect(removed.code, removed.stderr).toBe(0);
  expect(readdirSync(join(store, 'layers'))).toEqual([]);
});
