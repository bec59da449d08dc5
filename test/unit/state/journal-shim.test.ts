// The journal entries of the shim's own Create steps (issue 16): a mount it is about to make, and a
// process it hands over once Create has finished (the binary:// logger). Checked as untrusted input,
// and a handed-over process is killed only when undoing an unfinished create.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, JOURNAL_FILE, readJournal } from '../../../src/runtime/state/journal';
import { undoJournal } from '../../../src/runtime/state/undo';

const base = mkdtempSync(join(tmpdir(), 'tsrunc-unit-journal-shim-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(base, String(++n));
  mkdirSync(d);
  return d;
};

/** Not exited (a zombie has). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('journal: the shim\'s entries', () => {
  it('reads back a mount intent and a handed-over process', () => {
    const dir = fresh();
    const j = Journal.create(dir);
    j.append({ op: 'mount', target: '/run/b/rootfs', before: [31, 32] });
    j.process(process.pid, 'logger', true);
    j.process(process.pid, 'helper');
    j.close();
    const [mount, logger, helper] = readJournal(dir);
    expect(mount).toEqual({ op: 'mount', target: '/run/b/rootfs', before: [31, 32] });
    expect(logger).toMatchObject({ op: 'process', what: 'logger', handover: true });
    expect(helper).not.toHaveProperty('handover');
  });

  it.each([
    ['the root as mount target', { op: 'mount', target: '/', before: [] }, /mount target/],
    ['a relative mount target', { op: 'mount', target: 'rootfs', before: [] }, /mount target/],
    ['an unclean mount target', { op: 'mount', target: '/run/b/../rootfs', before: [] }, /mount target/],
    ['mount ids that are not integers', { op: 'mount', target: '/run/b/rootfs', before: ['1'] }, /mount ids/],
    ['no mount ids', { op: 'mount', target: '/run/b/rootfs' }, /mount ids/],
    ['a handover that is not a boolean', { op: 'process', pid: 99, startTime: 1, what: 'logger', handover: 'yes' }, /handover/],
  ])('refuses %s', (_what, entry, message) => {
    const dir = fresh();
    writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify(entry) + '\n');
    expect(() => readJournal(dir)).toThrow(message);
  });

  it('a handed-over process outlives the undo of a finished create, not of an unfinished one', async () => {
    const child = spawn('sleep', ['100'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      const dir = fresh();
      const j = Journal.create(dir);
      j.process(child.pid!, 'logger', true);
      j.close();
      const entries = readJournal(dir);
      await undoJournal(entries, { complete: true });
      expect(running(child.pid!)).toBe(true);
      // (undo waits until it is gone, and may reap it itself: Node then never sees its exit)
      await undoJournal(entries, { complete: false });
      expect(running(child.pid!)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
