import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors';
import { native } from '../native';
import { validateId } from './id';
import type { ContainerRecord } from './record';
import { removeStateDir } from './remove-dir';

export const START_SOCKET = 'start.sock';
const STATE_FILE = 'state.json';

/** The state root (`--root`): one directory per container. */
export class StateStore {
  constructor(readonly root: string) {}

  /** Creates the root (0700) when missing. */
  ensureRoot(): void {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  /** Makes the container's directory; fails when the id is taken. Returns it locked. */
  createDir(id: string): LockedDir {
    this.ensureRoot();
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id ${id} already exists`);
      throw err;
    }
    return LockedDir.open(dir, id);
  }

  /** Locks an existing container's directory (waits for other tsrunc commands on it). */
  lock(id: string): LockedDir {
    const dir = this.dir(id);
    let locked: LockedDir;
    try {
      locked = LockedDir.open(dir, id);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notExist(id);
      throw err;
    }
    // A concurrent delete may have removed it while we waited for the lock.
    if (!fs.existsSync(path.join(dir, STATE_FILE))) {
      locked.release();
      throw notExist(id);
    }
    return locked;
  }

  /**
   * Removes the directory of a create that died before writing state.json (killed mid-way). Holding
   * the lock proves no create is still running on it. Returns whether there was one.
   */
  removeIncomplete(id: string): boolean {
    let locked: LockedDir;
    try {
      locked = LockedDir.open(this.dir(id), id);
    } catch {
      return false;
    }
    if (fs.existsSync(path.join(locked.path, STATE_FILE))) {
      locked.release();
      return false;
    }
    locked.remove();
    return true;
  }

  /** Ids of all containers with a state file. */
  ids(): string[] {
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
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8')) as ContainerRecord;
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
  private constructor(
    readonly path: string,
    readonly id: string,
    readonly fd: number,
  ) {}

  static open(dir: string, id: string): LockedDir {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    native().flock(fd, true, true);
    return new LockedDir(dir, id, fd);
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
    fs.closeSync(this.fd);
  }

  /** Removes the directory; the lock goes with it. */
  remove(): void {
    removeStateDir(this.path);
    this.release();
  }
}
