// The write-ahead journal: appended lines read back; a line torn by a kill is skipped; anything
// malformed (it is as untrusted as state.json) is refused.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, JOURNAL_FILE, readJournal } from '../../../src/runtime/state/journal';

const base = mkdtempSync(join(tmpdir(), 'tsrunc-unit-journal-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(base, String(++n));
  mkdirSync(d);
  return d;
};

describe('journal', () => {
  it('reads back what was appended, in order; a second journal in the same directory is refused', () => {
    const dir = fresh();
    const j = Journal.create(dir);
    j.append({ op: 'cgroup', path: '/tsrunc/a', leaf: true });
    j.append({ op: 'cgroup-made', path: '/tsrunc/a', inode: 42, leaf: true });
    j.process(process.pid, 'self');
    j.append({ op: 'file', path: '/run/x.pid', content: '123' });
    j.close();
    const entries = readJournal(dir);
    expect(entries.map((e) => e.op)).toEqual(['cgroup', 'cgroup-made', 'process', 'file']);
    expect(entries[2]).toMatchObject({ op: 'process', pid: process.pid, what: 'self' });
    expect(() => Journal.create(dir)).toThrow(/EEXIST/);
  });

  it('refuses a journal that is not a regular file, or larger than 1 MiB', () => {
    const asDir = fresh();
    mkdirSync(join(asDir, JOURNAL_FILE));
    expect(() => readJournal(asDir)).toThrow(/not a journal/);
    const huge = fresh();
    writeFileSync(join(huge, JOURNAL_FILE), '');
    truncateSync(join(huge, JOURNAL_FILE), (1 << 20) + 1);
    expect(() => readJournal(huge)).toThrow(/not a journal/);
  });

  it('skips a last line cut short by a kill; no journal is an empty one', () => {
    const dir = fresh();
    expect(readJournal(dir)).toEqual([]);
    writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify({ op: 'cgroup', path: '/a', leaf: false }) + '\n{"op":"cgr');
    expect(readJournal(dir)).toEqual([{ op: 'cgroup', path: '/a', leaf: false }]);
  });

  it.each([
    ['a cgroup path climbing out', { op: 'cgroup', path: '/../../tmp/x', leaf: true }],
    ['a relative cgroup path', { op: 'cgroup-made', path: 'tmp/x', inode: 1, leaf: true }],
    ['the root cgroup', { op: 'cgroup', path: '/', leaf: true }],
    ['pid 1', { op: 'process', pid: 1, startTime: 1, what: 'x' }],
    ['a non-numeric pid', { op: 'process', pid: '5', startTime: 1, what: 'x' }],
    ['a relative file', { op: 'file', path: 'x.pid' }],
    ['a file path with ..', { op: 'file', path: '/run/../etc/passwd' }],
    ['an unknown op', { op: 'mount', path: '/x' }],
  ])('refuses %s', (_what, entry) => {
    const dir = fresh();
    appendFileSync(join(dir, JOURNAL_FILE), JSON.stringify(entry) + '\n');
    expect(() => readJournal(dir)).toThrow(/invalid|not an absolute/);
  });
});
