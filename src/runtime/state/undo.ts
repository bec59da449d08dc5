// Undo what a journal (state/journal.ts) says was made: kill the processes that are still the ones we
// started, detach the mounts that appeared where one was recorded, remove the cgroups tsrunc made (a
// pre-existing cgroup is never touched), remove files that still hold what we wrote. Everything that no
// longer exists is skipped, so undo can run any number of times.
import fs from 'node:fs';
import { CgroupHandle } from '../cgroups/handle';
import { cgroupInode } from '../cgroups/fsutil';
import { cgroup2Mount } from '../cgroups/mountinfo';
import { cgroupDir } from '../cgroups/path';
import { native } from '../native';
import type { JournalEntry } from './journal';
import { processStartTime } from './status';
import { killPidfdAndWait } from '../pidfd';
import { undoRecorded } from '../ops/host-mounts';

export interface UndoOptions {
  /**
   * state.json was written: the create finished, and what it handed over stays: the pid file, and its
   * cgroups, which state.json names from then on (delete removes them through removeContainerCgroup).
   */
  complete: boolean;
  warn?: (message: string) => void;
}

export async function undoJournal(entries: JournalEntry[], opts: UndoOptions): Promise<void> {
  for (const e of [...entries].reverse()) {
    if (e.op === 'process' && !(e.handover && opts.complete)) await killTree(e.pid, e.startTime);
  }
  // Once nothing of the container runs, its mounts are no longer busy.
  for (const e of [...entries].reverse()) {
    if (e.op === 'mount') for (const f of undoRecorded({ rootfs: e.target, before: e.before })) opts.warn?.(`mount not removed: ${f}`);
  }
  if (!opts.complete) await undoCgroups(entries, opts.warn);
  for (const e of entries) {
    if (e.op === 'file' && (e.temp || !opts.complete)) removeFileIf(e.path, e.content, e.temp);
  }
}

async function undoCgroups(entries: JournalEntry[], warn?: (m: string) => void): Promise<void> {
  const made = new Map<string, number>();
  for (const e of entries) if (e.op === 'cgroup-made') made.set(e.path, e.inode);
  const intents = entries.filter((e): e is Extract<JournalEntry, { op: 'cgroup' }> => e.op === 'cgroup');
  let mount;
  try {
    mount = intents.length ? cgroup2Mount() : undefined;
  } catch {
    return;
  }
  for (const e of [...intents].reverse()) {
    const dir = cgroupDir(e.path, mount);
    const inode = cgroupInode(dir);
    if (inode === undefined) continue;
    const recorded = made.get(e.path);
    if (e.leaf && recorded !== undefined) {
      if (recorded !== inode) {
        warn?.(`cgroup ${e.path} is not the one tsrunc made: left in place`);
        continue;
      }
      // ours for sure: whatever is in it was put there by this create
      await CgroupHandle.openHandle(e.path, { mount, created: [dir] }).remove(warn);
    } else {
      // a parent shared with other containers, or killed between the record and mkdir: only if empty
      try {
        fs.rmdirSync(dir);
      } catch {
        // in use, or not ours after all
      }
    }
  }
}

/** SIGKILL `pid` (if it still started at `startTime`) and its descendants, and wait until it is gone. */
async function killTree(pid: number, startTime: number): Promise<void> {
  if (processStartTime(pid) !== startTime) return;
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(pid);
  } catch {
    return;
  }
  try {
    if (processStartTime(pid) !== startTime) return; // the pidfd is of a reused pid
    // children first: once their parent is gone they are reparented and lost to us
    for (const child of descendants(pid)) {
      try {
        process.kill(child.pid, 0);
        if (processStartTime(child.pid) === child.startTime) process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await killPidfdAndWait(pidfd);
  } finally {
    fs.closeSync(pidfd);
  }
}

function descendants(pid: number): { pid: number; startTime: number }[] {
  const out: { pid: number; startTime: number }[] = [];
  const walk = (p: number, depth: number) => {
    if (depth > 32) return;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      let text = '';
      try {
        text = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of text.split(' ').filter(Boolean).map(Number)) {
        const st = processStartTime(c);
        if (st === null) continue;
        out.push({ pid: c, startTime: st });
        walk(c, depth + 1);
      }
    }
  };
  walk(pid, 0);
  return out;
}

/**
 * Removes `file` if it is still what we made: a regular file with exactly `content`, or a socket. A
 * `temp` file (its name is ours: it holds our pid) may also hold the start of `content`, down to nothing:
 * create was killed between its open and its write.
 */
function removeFileIf(file: string, content: string | undefined, temp = false): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file, { throwIfNoEntry: false }); // gone is the usual case: not thrown (read-if-present.ts)
  } catch {
    return;
  }
  if (!st) return;
  if (content === undefined ? !st.isSocket() : !st.isFile() || (temp ? st.size > Buffer.byteLength(content) : st.size !== Buffer.byteLength(content))) return;
  if (content !== undefined) {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      return;
    }
    try {
      const text = fs.readFileSync(fd, 'utf8');
      if (temp ? !content.startsWith(text) : text !== content) return;
    } finally {
      fs.closeSync(fd);
    }
  }
  fs.rmSync(file, { force: true });
}
