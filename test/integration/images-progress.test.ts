// `image import` progress: on a terminal (a real pty from script(1)) it shows each layer with the bytes read
// and unpacked, and a summary; piped or redirected, stdout is the one result line and stderr stays empty.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { human } from '../../src/bundle/image/progress';
import { childEnv, runId, TSRUNC_CJS, tsrunc } from '../helpers';
import { removeTree } from '../helpers/fs';
import { dirLayer, entriesLayer, newLayout, writeImage, type BuiltLayer } from './images-fixture';

const work = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-images-progress-`));
const store = join(work, 'store');
const layout = newLayout(join(work, 'layout'));
let layers: BuiltLayer[];
/** Bytes of tar in all layers (what "unpacked" counts). */
let tarBytes = 0;

beforeAll(async () => {
  const rootfs = join(work, 'busybox');
  makeBusyboxRootfs(rootfs);
  // 64 MB of zeros: small to store, long enough to unpack that a line is drawn while it runs.
  layers = [await dirLayer(layout, rootfs), await entriesLayer(layout, [{ name: 'zeros', body: Buffer.alloc(64 << 20) }])];
  writeImage(layout, 'p', layers);
  for (const l of layers) tarBytes += gunzipSync(readFileSync(join(layout, 'blobs/sha256', l.digest.slice(7)))).length;
}, 120_000);

afterAll(() => removeTree(work));

/** `tsrunc image import` on a new pty (script -e: its exit status); what the terminal showed, split at \r and \n. */
async function importOnPty(tag: string): Promise<string[]> {
  const argv = [process.execPath, TSRUNC_CJS, '--store', store, 'image', 'import', `${layout}:p`, '--tag', tag];
  const shell = argv.map((a) => `'${a}'`).join(' ');
  const r = await promisify(execFile)('script', ['-qec', shell, '/dev/null'], { env: childEnv(), timeout: 120_000, maxBuffer: 1 << 24 });
  // eslint-disable-next-line no-control-regex
  return r.stdout.replace(/\x1b\[K/g, '').split(/[\r\n]+/).filter(Boolean);
}

it('shows layers and bytes on a terminal', async () => {
  const lines = await importOnPty('prog:1');
  const id = (i: number) => layers[i]!.digest.slice(7, 19);
  const sizes = layers.map((l) => l.size);
  for (const i of [0, 1]) {
    const mine = lines.filter((l) => l.startsWith(`layer ${i + 1}/2 ${id(i)}: `));
    expect(mine.length, lines.join('\n')).toBeGreaterThan(0);
    // Each line counts bytes of the blob read (of its size) and of tar unpacked.
    for (const l of mine) expect(l).toMatch(/: [\d.]+ [KMG]?B of [\d.]+ [KMG]?B read, [\d.]+ [KMG]?B unpacked/);
    expect(mine.at(-1)).toContain(`${human(sizes[i]!)} of ${human(sizes[i]!)} read`);
    expect(mine.at(-1)).toMatch(/ unpacked, done$/);
  }
  const summary = /^2 layers, ([\d.]+) MB unpacked$/.exec(lines.at(-2) ?? '');
  expect(summary, lines.join('\n')).not.toBeNull();
  expect(Number(summary![1])).toBeCloseTo(tarBytes / 1e6, 1);
  // The result line still comes last, on stdout.
  expect(lines.at(-1)).toMatch(/^prog:1 sha256:[0-9a-f]{64} \(2 layers, 2 unpacked\)$/);
  // Layers already in the store say so.
  const again = await importOnPty('prog:2');
  expect(again).toContain(`layer 2/2 ${id(1)}: already in the store`);
});

it('is quiet when not on a terminal', async () => {
  const r = await tsrunc(['--store', store, 'image', 'import', `${layout}:p`, '--tag', 'prog:3']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^prog:3 sha256:[0-9a-f]{64} \(2 layers, 0 unpacked\)\n$/);
  // A fresh store (layers unpacked, the long path) is quiet too.
  const fresh = await tsrunc(['--store', join(work, 'store2'), 'image', 'import', `${layout}:p`, '--tag', 'prog:4']);
  expect(fresh.stderr).toBe('');
  expect(fresh.stdout).toMatch(/^prog:4 sha256:[0-9a-f]{64} \(2 layers, 2 unpacked\)\n$/);
});
