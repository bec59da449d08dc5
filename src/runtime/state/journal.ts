// The write-ahead record of a container's state directory: before create (or the shim) makes anything on
// the host, it appends what it is about to make to <dir>/journal, so that `delete --force` can undo a
// create killed at any instant (state/undo.ts). One JSON object per line, each appended with a single
// write(2) on an O_APPEND fd: a killed process loses nothing it wrote. Only entries for things that
// outlive a machine crash (files) are fsync'd: cgroups and processes do not survive a reboot, and an
// fsync costs ~3 ms on a disk-backed /run. The file is as untrusted as state.json: readJournal checks
// every entry, and undo only removes what still is what the entry describes.
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors';
import { native } from '../native';
import type { CgroupMkdirObserver } from '../cgroups/manager';
import { checkCgroupPath } from '../cgroups/path';
import { processStartTime } from './status';
import type { LockedDir } from './store';

export const JOURNAL_FILE = 'journal';

export type JournalEntry =
  /** About to mkdir cgroup `path` (in the hierarchy); `leaf`: the container's own, not a shared parent. */
  | { op: 'cgroup'; path: string; leaf: boolean }
  /** mkdir of `path` done; `inode` tells it apart from a later cgroup of the same name. */
  | { op: 'cgroup-made'; path: string; inode: number; leaf: boolean }
  /**
   * A process we started (helper, container init, hook); killed with its descendants if still the same.
   * `handover`: a finished create hands it over (the shim's binary:// logger, which ends when its input
   * does): killed only when undoing a create that never finished.
   */
  | { op: 'process'; pid: number; startTime: number; what: string; handover?: boolean }
  /**
   * About to mount on `target` (a caller's own mount: the shim's rootfs); `before` are the ids of the
   * mounts already at or under it. Undo detaches every other mount there, newest first.
   */
  | { op: 'mount'; target: string; before: number[] }
  /**
   * About to create a file outside the state directory (pid file, socket). Removed only while it is a
   * regular file holding exactly `content`, or a socket when `content` is absent. `temp`: a temporary
   * that never outlives the operation, removed even from a complete container.
   */
  | { op: 'file'; path: string; content?: string; temp?: boolean };

/** Begins the write-ahead journal of a directory createDir just made; the directory goes if it cannot. */
export function startJournal(dir: LockedDir): Journal {
  try {
    dir.journal = Journal.create(dir.path);
  } catch (err) {
    dir.remove();
    throw err;
  }
  return dir.journal;
}

/** An append-only journal, open for writing. */
export class Journal {
  private dirSynced = false;

  private constructor(
    readonly dir: string,
    readonly file: string,
    private fd: number,
  ) {}

  /** Starts the journal of a fresh state directory (fails if one exists). */
  static create(dir: string): Journal {
    const file = path.join(dir, JOURNAL_FILE);
    const c = fs.constants;
    const fd = fs.openSync(file, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_APPEND | c.O_NOFOLLOW, 0o600);
    return new Journal(dir, file, fd);
  }

  /** Appends entries (one write) before the things they describe are made; durably when those outlive a reboot. */
  append(...entries: JournalEntry[]): void {
    if (this.fd < 0) throw new RuntimeError('journal already closed');
    fs.writeSync(this.fd, entries.map((e) => JSON.stringify(e) + '\n').join(''));
    if (!entries.some((e) => e.op === 'file')) return;
    fs.fdatasyncSync(this.fd);
    if (!this.dirSynced) syncDir(this.dir); // the journal's own name, once
    this.dirSynced = true;
  }

  /** Records a process just started (its start time tells it from a later one with the same pid). */
  process(pid: number, what: string, handover = false): void {
    const startTime = processStartTime(pid);
    if (startTime !== null) this.append({ op: 'process', pid, startTime, what, ...(handover ? { handover } : {}) });
  }

  /** Records each cgroup directory Cgroup.create makes, before and after mkdir. */
  cgroupObserver(): CgroupMkdirObserver {
    return {
      before: (path, leaf) => {
        this.append({ op: 'cgroup', path, leaf });
        crashPoint('cgroup-mkdir');
      },
      made: (path, inode, leaf) => {
        this.append({ op: 'cgroup-made', path, inode, leaf });
        crashPoint('cgroup-made');
      },
    };
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const MAX_JOURNAL = 1 << 20;

/**
 * The entries of `dir`'s journal ([] when there is none). A torn last line (killed mid-write) is
 * skipped; any other malformed entry makes the whole journal refused.
 */
export function readJournal(dir: string): JournalEntry[] {
  let text: string;
  try {
    const fd = fs.openSync(path.join(dir, JOURNAL_FILE), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      // the addon's fstat: delete's only stat, and Node's first one costs a cold call ~0.3 ms
      const st = native().fstatBrief(fd);
      const isFile = (st.mode & fs.constants.S_IFMT) === fs.constants.S_IFREG;
      if (!isFile || st.size > MAX_JOURNAL) throw new RuntimeError(`${dir}/${JOURNAL_FILE}: not a journal`);
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, else a line cut short by a kill: never acted on
  return lines.map((line, i) => checkEntry(line, `${dir}/${JOURNAL_FILE}:${i + 1}`));
}

function checkEntry(line: string, where: string): JournalEntry {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new RuntimeError(`${where}: not JSON`);
  }
  const bad = (what: string) => new RuntimeError(`${where}: invalid ${what}`);
  const isPid = (n: unknown) => Number.isSafeInteger(n) && (n as number) > 1;
  switch (e?.op) {
    case 'cgroup':
    case 'cgroup-made':
      checkCgroupPath(e.path, `${where}: cgroup path`);
      if (e.path === '/') throw bad('cgroup path "/"');
      if (typeof e.leaf !== 'boolean') throw bad('leaf');
      if (e.op === 'cgroup-made' && !Number.isSafeInteger(e.inode)) throw bad('inode');
      return e as JournalEntry;
    case 'process':
      if (!isPid(e.pid) || !Number.isSafeInteger(e.startTime) || typeof e.what !== 'string') throw bad('process');
      if (e.handover !== undefined && typeof e.handover !== 'boolean') throw bad('process handover');
      return e as JournalEntry;
    case 'mount':
      if (!isCleanPath(e.target) || e.target === '/') throw bad('mount target');
      if (!Array.isArray(e.before) || !e.before.every((n) => Number.isSafeInteger(n))) throw bad('mount ids');
      return e as JournalEntry;
    case 'file':
      if (!isCleanPath(e.path)) throw bad('file path');
      if (e.content !== undefined && typeof e.content !== 'string') throw bad('file content');
      return e as JournalEntry;
    default:
      throw bad('op');
  }
}

function isCleanPath(p: unknown): p is string {
  return typeof p === 'string' && path.isAbsolute(p) && path.normalize(p) === p;
}

/**
 * A test-only hook: with TSRUNC_TEST_CRASH_AT=<step>, the process SIGKILLs itself at that step, as an
 * engine's crash would (test/integration/crash-safety.test.ts). Never set outside tests.
 */
export function crashPoint(step: string): void {
  if (process.env.TSRUNC_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}
