import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors';
import { native } from '../native';
import { validateId } from './id';
import { Journal } from './journal';
import type { ContainerRecord } from './record';

export const START_SOCKET = 'start.sock';
const STATE_FILE = 'state.json';

/**
 * Refuses a state root or state directory that someone else could write: its contents (state.json, the
 * journal) decide what tsrunc kills and removes, and a subdirectory swapped for a symlink could redirect
 * a removal (issue 13).
 */
export function checkPrivate(st: fs.Stats, what: string, where: string): void {
  const euid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new RuntimeError(`${what} ${where} is not a directory`);
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
   * Makes the container's directory, locked, with its write-ahead journal started (state/journal.ts):
   * the directory is the first thing create makes, the journal lists everything after it.
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
    const locked = await LockedDir.open(this.root, dir, id);
    try {
      locked.journal = Journal.create(dir);
    } catch (err) {
      locked.remove();
      throw err;
    }
    return locked;
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
    if (!this.checkRoot()) return undefined;
    let locked: LockedDir;
    try {
      locked = await LockedDir.open(this.root, dir, id);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    // A concurrent delete may have removed it while we waited for the lock (and a create made it anew).
    const now = fs.statSync(dir, { throwIfNoEntry: false });
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

  read(id: string): ContainerRecord {
    try {
      if (!this.checkRoot()) throw notExist(id);
      const dir = this.dir(id);
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

  private constructor(
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
      const rootFd = fs.openSync(this.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      try {
        native().removeTreeAt(rootFd, path.basename(this.path));
      } finally {
        fs.closeSync(rootFd);
      }
    } finally {
      this.release();
    }
  }
}
