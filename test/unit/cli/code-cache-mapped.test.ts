// The code cache's loader maps a bundle's source and cache (native/addon/mapfile.c) instead of reading
// them into the heap; the build refuses a bundle that a Latin-1 mapping would misread.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterEach, expect, it, vi } from 'vitest';
import { loadCached } from '../../../src/cli/fast/code-cache';
import { native } from '../../../src/runtime/native';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-ccm-'));
  dirs.push(dir);
  return dir;
}

const mappedFiles = (): string[] => readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]);

it('compiles a bundle from its mapped source and cache', () => {
  const file = join(tempDir(), 'op.cjs');
  writeFileSync(file, `(function (exports, require, module, __filename, __dirname) { exports.answer = (x) => x * 2; // ${Math.random()}\n})`);
  loadCached(file, true);
  // What is mapped while V8 compiles (source and cache are the call's arguments then): read later, an
  // unreferenced cache Buffer may already have been collected and unmapped.
  let mappedAtCompile: string[] = [];
  let rejected: boolean | undefined;
  const Script = vm.Script;
  vi.spyOn(vm, 'Script').mockImplementation(function (this: unknown, ...args: ConstructorParameters<typeof vm.Script>) {
    mappedAtCompile = mappedFiles();
    const script = new Script(...args);
    rejected = script.cachedDataRejected;
    return script;
  } as unknown as typeof vm.Script);
  vi.spyOn(process, 'once').mockImplementation((() => process) as unknown as typeof process.once);
  expect((loadCached(file) as { answer: (x: number) => number }).answer(4)).toBe(8);
  expect(mappedAtCompile).toEqual(expect.arrayContaining([file, file + '.cache']));
  expect(rejected).toBe(false);
});

it('mapFile gives an ASCII file as text and any file as bytes, and nothing for what it cannot map', () => {
  const dir = tempDir();
  const text = join(dir, 'text');
  writeFileSync(text, 'exports.x = "\\u00e9";\n');
  expect(native().mapFile(text, true)).toBe('exports.x = "\\u00e9";\n');
  const bytes = join(dir, 'bytes');
  writeFileSync(bytes, Buffer.from([0, 255, 1, 128]));
  expect([...native().mapFile(bytes, false)!]).toEqual([0, 255, 1, 128]);
  writeFileSync(join(dir, 'empty'), '');
  mkdirSync(join(dir, 'sub'));
  for (const f of ['absent', 'empty', 'sub']) {
    expect(native().mapFile(join(dir, f), true)).toBeUndefined();
    expect(native().mapFile(join(dir, f), false)).toBeUndefined();
  }
});

it('the build refuses a bundle that is not ASCII (a Latin-1 mapping would misread it)', () => {
  const file = join(tempDir(), 'op.cjs');
  writeFileSync(file, 'exports.s = "é";\n');
  expect(() => loadCached(file, true)).toThrow(/not ASCII/);
});
