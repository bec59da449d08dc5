// An image with more layers than fit in one page of overlay mount options (`lowerdir=` of 64 store paths is
// ~7 KB; mount(2) copies at most 4096 bytes of options): `bundle create` and `bundle mount` still make an
// overlay of every layer, in order, and the container sees files from the bottom, middle and top layers.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { runId, tsrunc, uniqueId } from '../helpers';
import { removeTree } from '../helpers/fs';
import { dirLayer, entriesLayer, newLayout, writeImage, type BuiltLayer } from './images-fixture';

const LAYERS = 64;
const work = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-images-layers-`));
const store = join(work, 'store');
const layout = newLayout(join(work, 'layout'));
const bundle = join(work, 'bundle');

const cli = (args: string[]) => tsrunc(['--store', store, ...args], { timeout: 120_000 });

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function run(b = bundle): Promise<string> {
  const id = uniqueId('layers');
  const r = await tsrunc(['run', '--bundle', b, id], { timeout: 60_000 });
  await tsrunc(['delete', '--force', id]).catch(() => undefined);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  const rootfs = join(work, 'busybox');
  makeBusyboxRootfs(rootfs);
  const layers: BuiltLayer[] = [await dirLayer(layout, rootfs)];
  // Layer i writes /layers/i and /which (each one hides the one below); the bottom one also /gone, which the
  // top one deletes again.
  for (let i = 1; i < LAYERS; i++) {
    const entries = [
      { name: 'layers/', type: 'directory' as const, mode: 0o755 },
      { name: `layers/${i}`, body: `layer ${i}\n` },
      { name: 'which', body: `${i}\n` },
    ];
    if (i === 1) entries.push({ name: 'gone', body: 'bottom\n' });
    if (i === LAYERS - 1) entries.push({ name: '.wh.gone', body: '' });
    layers.push(await entriesLayer(layout, entries));
  }
  writeImage(layout, 'two', layers.slice(0, 2), { Cmd: ['cat', '/which', '/layers/1'] });
  writeImage(layout, 'many', layers, { Cmd: ['sh', '-c', 'cat /which /layers/1 /layers/32 /layers/63; ls /layers | wc -l; test -e /gone || echo no-gone; busybox | head -1 | cut -c1-7'] });
}, 180_000);

afterAll(async () => {
  if (existsSync(join(bundle, '.layer'))) await cli(['bundle', 'rm', bundle]);
  removeTree(work);
});

it(`bundle create and bundle mount overlay ${LAYERS} layers, past the page limit of mount(2) options`, async () => {
  expect(await ok(['image', 'import', `${layout}:many`, '--tag', 'many:1'])).toContain(`${LAYERS} layers`);
  // The options as mount(2) would need them: well over a page.
  const lowerdir = `lowerdir=${Array.from({ length: LAYERS }, () => join(store, 'layers', 'x'.repeat(64))).join(':')}`;
  expect(lowerdir.length).toBeGreaterThan(4096);
  const created = await ok(['bundle', 'create', '--image', 'many:1', '--no-seccomp', bundle]);
  expect(created).toContain('overlay');
  const want = `${LAYERS - 1}\nlayer 1\nlayer 32\nlayer 63\n${LAYERS - 1}\nno-gone\nBusyBox\n`;
  expect(await run()).toBe(want);
  // Every layer is a lower layer of that one overlay (the kernel lists them in the mount's options).
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === join(bundle, 'rootfs'));
  expect(line).toMatch(/ - overlay /);
  expect(line!.split(join(store, 'layers') + '/')).toHaveLength(LAYERS + 1);
  // After a reboot (here: an unmount), bundle mount makes the same overlay again.
  execFileSync('umount', [join(bundle, 'rootfs')]);
  expect(existsSync(join(bundle, 'rootfs/bin'))).toBe(false);
  await ok(['bundle', 'mount', bundle]);
  expect(await run()).toBe(want);
});

it('a store path with ":" and "," (separators in overlay options) still gives an overlay', async () => {
  const odd = join(work, 'st:o,re');
  const b = join(work, 'odd-bundle');
  const r = await tsrunc(['--store', odd, 'image', 'import', `${layout}:two`, '--tag', 'two:1']);
  expect(r.code, r.stderr).toBe(0);
  const c = await tsrunc(['--store', odd, 'bundle', 'create', '--image', 'two:1', '--no-seccomp', b]);
  try {
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('overlay');
    expect(await run(b)).toBe('1\nlayer 1\n');
  } finally {
    await tsrunc(['--store', odd, 'bundle', 'rm', b]);
  }
});
