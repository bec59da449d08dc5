import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors';
import { native, type OpenedStateDir } from '../native';
import { validateId } from './id';
import type { Journal } from './journal';
import type { ContainerRecord } from './record';

export const START_SOCKET = 'start.sock';
const STATE_FILE = 'state.json';

/**
 * Refuses a state root or state directory that someone else could write: its contents (state.json, the
 * journal) decide what tsrunc kills and removes, and a subdirectory swapped for a symlink could redirect
 * a removal (issue 13).
 */
export function checkPrivate(st: { mode: number; uid: number }, what: string, where: string): void {
  const euid = process.geteuid?.() ?? 0;
  if ((st.mode & fs.constants.S_IFMT) !== fs.constants.S_IFDIR) throw new RuntimeError(`${what} ${where} is not a directory`);
  if (st.uid !== euid) throw new RuntimeError(`${what} ${where} is owned by uid ${st.uid}, not by us (uid ${euid}): refusing to use it`);
  if (st.mode & 0o022) {
    throw new RuntimeError(`${what} ${where} is writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): refusing to use it`);
  }
}

/** The state root (`--root`): one directory per container. */
export class StateStore {
  constructor(readonly root: string) {}

  /** Creates the root (0700) when missing; refuses one that is not private to us. */
  ensureRoot(): void {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    this.checkRoot();
  }

  /** Throws unless the root is ours and nobody else can write it; false when there is none. */
  checkRoot(): boolean {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    checkPrivate(st, 'state root', this.root);
    return true;
  }

  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  /**
   * Makes the container's directory, locked: the first thing create makes (its journal, begun next by
   * startJournal in state/journal.ts, lists everything after it; kept out of here because every other
   * call loads this module).
   */
  async createDir(id: string): Promise<LockedDir> {
    this.ensureRoot();
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id ${id} already exists`);
      throw err;
    }
    return LockedDir.open(this.root, dir, id);
  }

  /**
   * Locks an existing container's directory. Another process's command on it (a tsrunc CLI) is waited
   * for off the event loop: a shim serving many containers keeps serving the others meanwhile.
   */
  async lock(id: string): Promise<LockedDir> {
    const locked = await this.lockAny(id);
    if (!locked) throw notExist(id);
    if (!locked.complete()) {
      locked.release();
      throw notExist(id);
    }
    return locked;
  }

  /**
   * Locks a container's directory whether or not its create finished (delete --force of a create
   * killed mid-way). Holding the lock proves no create is still running on it. Undefined: no such directory.
   */
  async lockAny(id: string): Promise<LockedDir | undefined> {
    const dir = this.dir(id);
    let opened: OpenedStateDir | undefined;
    try {
      opened = native().openStateDir(this.root, id);
    } catch {
      // Neither there nor absent (a root that is a file, a directory that is a symlink, EACCES...): the
      // walk through Node's fs names the problem as every other command does.
      return this.lockAnyByPath(id, dir);
    }
    if (!opened) return undefined;
    let locked: LockedDir;
    try {
      checkPrivate(opened.root, 'state root', this.root);
      checkPrivate(opened.dir, 'state directory', dir);
      locked = new LockedDir(this.root, dir, id, opened.fd, opened.ino);
    } catch (err) {
      fs.closeSync(opened.fd);
      throw err;
    }
    if (opened.current) return locked;
    if (opened.locked) {
      locked.release(); // removed (or replaced) just before we locked it
      return undefined;
    }
    try {
      await native().flockWait(opened.fd, true);
    } catch (err) {
      locked.release();
      throw err;
    }
    return this.stillCurrent(locked);
  }

  /** lockAny through Node's fs: the same checks, with Node's error messages. */
  private async lockAnyByPath(id: string, dir: string): Promise<LockedDir | undefined> {
    if (!this.checkRoot()) return undefined;
    let locked: LockedDir;
    try {
      locked = await LockedDir.open(this.root, dir, id);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return this.stillCurrent(locked);
  }

  /** A concurrent delete may have removed the directory while we waited for the lock (and a create made it anew). */
  private stillCurrent(locked: LockedDir): LockedDir | undefined {
    const now = fs.statSync(locked.path, { throwIfNoEntry: false });
    if (!now || now.ino !== locked.ino) {
      locked.release();
      return undefined;
    }
    return locked;
  }

  /** Ids of all containers with a state file. */
  ids(): string[] {
    if (!this.checkRoot()) return [];
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => fs.existsSync(path.join(this.root, n, STATE_FILE))).sort();
  }

  /**
   * A container's record, unlocked. The directories are checked through the addon, as lockAny does: a
   * call's first Node stat costs ~0.3 ms (its Stats machinery), and every CLI call loads the addon anyway
   * (its exit: src/cli/fast/exit.ts).
   */
  read(id: string): ContainerRecord {
    const dir = this.dir(id);
    let opened: OpenedStateDir | undefined;
    try {
      opened = native().openStateDir(this.root, id, false);
    } catch {
      return this.readByPath(id, dir); // neither there nor absent: Node's walk names the problem
    }
    if (!opened) throw notExist(id);
    try {
      checkPrivate(opened.root, 'state root', this.root);
      checkPrivate(opened.dir, 'state directory', dir);
      // through the checked directory, not its path again
      return JSON.parse(fs.readFileSync(`/proc/self/fd/${opened.fd}/${STATE_FILE}`, 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notExist(id);
      throw err;
    } finally {
      fs.closeSync(opened.fd);
    }
  }

  /** read through Node's fs: the same checks, with Node's error messages. */
  private readByPath(id: string, dir: string): ContainerRecord {
    try {
      if (!this.checkRoot()) throw notExist(id);
      checkPrivate(fs.lstatSync(dir), 'state directory', dir);
      return JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notExist(id);
      throw err;
    }
  }
}

function notExist(id: string): RuntimeError {
  return new RuntimeError(`container ${id} does not exist`);
}

/** A container directory held under an exclusive flock. */
export class LockedDir {
  /** The write-ahead journal, open while create runs. */
  journal?: Journal;

  constructor(
    readonly root: string,
    readonly path: string,
    readonly id: string,
    readonly fd: number,
    /** The directory's inode, from the fstat that checked it (an fd's inode never changes). */
    readonly ino: number,
  ) {}

  /** Uncontended, the lock is taken at once; held elsewhere, it is waited for on a thread (flockWait). */
  static async open(root: string, dir: string, id: string): Promise<LockedDir> {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
      checkPrivate(st, 'state directory', dir);
      if (!native().flock(fd, true, false)) await native().flockWait(fd, true);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new LockedDir(root, dir, id, fd, st.ino);
  }

  /** Whether create finished (state.json was written). */
  complete(): boolean {
    return fs.existsSync(path.join(this.path, STATE_FILE));
  }

  /** Atomic: readers see the old or the new state, never half of one. */
  write(record: ContainerRecord): void {
    const tmp = path.join(this.path, `.${STATE_FILE}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(record));
    fs.renameSync(tmp, path.join(this.path, STATE_FILE));
  }

  read(): ContainerRecord {
    return JSON.parse(fs.readFileSync(path.join(this.path, STATE_FILE), 'utf8')) as ContainerRecord;
  }

  startSocket(): string {
    return path.join(this.path, START_SOCKET);
  }

  release(): void {
    this.journal?.close();
    fs.closeSync(this.fd);
  }

  /**
   * Removes the directory through directory fds, never following a symlink or entering a mount
   * (a subdirectory swapped for a symlink mid-walk removes the link, not its target); the lock goes with it.
   */
  remove(): void {
    try {
      native().removeTreeAt(this.root, path.basename(this.path));
    } finally {
      this.release();
    }
  }
}
