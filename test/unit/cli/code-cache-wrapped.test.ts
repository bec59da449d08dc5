// A bundle the build stored wrapped (scripts/build.mjs, wrapForCodeCache) is compiled as it is; its
// code cache is accepted on the next load.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import vm from 'node:vm';
import { loadCached } from '../../../src/cli/fast/code-cache';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('a wrapped bundle loads, and the cache made from it is used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-ccw-'));
  dirs.push(dir);
  const file = join(dir, 'op.cjs');
  writeFileSync(file, '(function (exports, require, module, __filename, __dirname) { exports.answer = (x) => x * 2; exports.dir = __dirname;\n})');
  const exports = loadCached(file, true) as { answer: (x: number) => number; dir: string };
  expect(exports.answer(21)).toBe(42);
  expect(exports.dir).toBe(dir);
  expect(existsSync(file + '.cache')).toBe(true);
  const rejected: boolean[] = [];
  const Script = vm.Script;
  vi.spyOn(vm, 'Script').mockImplementation(function (this: unknown, ...args: ConstructorParameters<typeof vm.Script>) {
    const s = new Script(...args);
    rejected.push(s.cachedDataRejected ?? true);
    return s;
  } as unknown as typeof vm.Script);
  vi.spyOn(process, 'once').mockImplementation((() => process) as unknown as typeof process.once);
  expect((loadCached(file) as { answer: (x: number) => number }).answer(2)).toBe(4);
  expect(rejected).toEqual([false]);
});
