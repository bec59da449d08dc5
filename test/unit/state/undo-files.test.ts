// undoJournal's file entries: what create wrote is removed only while it still holds what create wrote.
// A temporary file (the pid file's, named after create's pid) may also be cut short: create killed
// between its open and its write leaves it empty, and it is still ours.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { undoJournal } from '../../../src/runtime/state/undo';

const base = mkdtempSync(join(tmpdir(), 'tsrunc-unit-undo-files-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A file holding `text`, undone as a journal entry (complete: false, as for a create killed mid-way). */
async function undone(text: string, entry: { content: string; temp?: boolean }): Promise<boolean> {
  const dir = join(base, String(++n));
  mkdirSync(dir);
  const file = join(dir, 'pid.tmp-4242');
  writeFileSync(file, text);
  await undoJournal([{ op: 'file', path: file, ...entry }], { complete: false });
  return !existsSync(file);
}

describe('undo of file entries', () => {
  it('a temporary file: removed when it holds the content or the start of it, down to nothing', async () => {
    expect(await undone('4242', { content: '4242', temp: true })).toBe(true);
    expect(await undone('42', { content: '4242', temp: true })).toBe(true);
    expect(await undone('', { content: '4242', temp: true })).toBe(true);
  });

  it('a temporary file that holds anything else stays', async () => {
    expect(await undone('4243', { content: '4242', temp: true })).toBe(false);
    expect(await undone('42421', { content: '4242', temp: true })).toBe(false);
    expect(await undone('x', { content: '4242', temp: true })).toBe(false);
  });

  it('a file that is not temporary: removed only with exactly its content', async () => {
    expect(await undone('4242', { content: '4242' })).toBe(true);
    expect(await undone('', { content: '4242' })).toBe(false);
    expect(await undone('42', { content: '4242' })).toBe(false);
  });
});
