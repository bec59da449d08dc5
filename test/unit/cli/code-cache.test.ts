// The warm code cache (src/cli/fast/code-cache.ts): written once, after a call that exits 0 having run its
// whole path (src/cli/fast/warm-mark.ts), only into a directory that is ours and not writable by group or
// others; then used.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { loadCached } from '../../../src/cli/fast/code-cache';
import { markRepresentative } from '../../../src/cli/fast/warm-mark';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('tsrunc.code-cache.representative')];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Loads a small bundle; returns its exports and the exit listener loadCached registered, if any. */
function load(mode = 0o755) {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-cc-'));
  dirs.push(dir);
  chmodSync(dir, mode);
  const file = join(dir, 'op.cjs');
  writeFileSync(file, 'exports.answer = (x) => x * 2;\n');
  return { file, ...loadWith(file) };
}

function loadWith(file: string) {
  let onExit: ((code: number) => void) | undefined;
  const spy = vi.spyOn(process, 'once').mockImplementation(((event: string, cb: (code: number) => void) => {
    if (event === 'exit') onExit = cb;
    return process;
  }) as typeof process.once);
  try {
    const exports = loadCached(file) as { answer: (x: number) => number };
    return { exports, onExit };
  } finally {
    spy.mockRestore();
  }
}

it('a call that exits 0 writes the warm cache, which the next load uses (no new write)', () => {
  const { file, exports, onExit } = load();
  expect(exports.answer(21)).toBe(42);
  expect(onExit).toBeDefined();
  markRepresentative();
  onExit!(0);
  expect(existsSync(file + '.warm-cache')).toBe(true);
  const again = loadWith(file);
  expect(again.exports.answer(2)).toBe(4);
  expect(again.onExit).toBeUndefined();
});

it('a failing call writes nothing', () => {
  const { file, onExit } = load();
  markRepresentative();
  onExit!(1);
  expect(existsSync(file + '.warm-cache')).toBe(false);
});

it('a call that exits 0 without running its whole path (delete --force of nothing) writes nothing', () => {
  const { file, onExit } = load();
  onExit!(0);
  expect(existsSync(file + '.warm-cache')).toBe(false);
});

it('nothing is written into a directory that group or others can write', () => {
  const { file, onExit } = load(0o775);
  markRepresentative();
  onExit!(0);
  expect(existsSync(file + '.warm-cache')).toBe(false);
});

it('a warm cache V8 rejects (here: not V8 data) is written again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-cc-'));
  dirs.push(dir);
  const file = join(dir, 'op.cjs');
  // A source of its own: V8 keeps compiled scripts per source in the process, and would not look at the cache.
  writeFileSync(file, `exports.answer = (x) => x * 3; // ${Math.random()}\n`);
  writeFileSync(file + '.warm-cache', 'garbage');
  const { exports, onExit } = loadWith(file);
  expect(exports.answer(3)).toBe(9);
  expect(onExit).toBeDefined();
  markRepresentative();
  onExit!(0);
  expect(readFileSync(file + '.warm-cache', 'utf8')).not.toBe('garbage');
});
