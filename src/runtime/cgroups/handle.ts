// An existing cgroup v2 directory: what delete, kill and start need (pids, events, kill, remove), without
// the resource and stats code of the full manager (manager.ts extends it): every `tsrunc delete` loads this.
// Only a cgroup tsrunc made is ever killed as a whole or removed: a pre-existing one (linux.cgroupsPath
// naming a cgroup of the host) may hold processes that are not the container's.
import { closeSync, constants, existsSync, readdirSync, rmdirSync } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode, RuntimeError } from '../errors';
import { cgroupFrozen, openCgroupFile, parseKeyValues, readCgroupFile, readOptional, writeCgroupFile } from './fsutil';
import { waitCgroupEvents } from './events-wait';
import { cgroup2Mount, type MountInfo } from './mountinfo';
import { cgroupDir, checkCgroupPath } from './path';

export interface CgroupOptions {
  /** The cgroup2 mount to use (default: the first cgroup2 mount in /proc/self/mountinfo). */
  mount?: MountInfo;
}

export interface OpenOptions extends CgroupOptions {
  /** Directories `create` made (Cgroup.created), so `remove` can delete them again. */
  created?: string[];
}

/**
 * `path` and `created` as `open` takes them, checked: they may come from state.json (normalized, below
 * the cgroup2 mount; `created` only the cgroup itself and its ancestors).
 */
export function checkedOpen(path: string, opts: OpenOptions): { dir: string; created: string[] } {
  const mount = opts.mount ?? cgroup2Mount();
  const dir = cgroupDir(path, mount);
  const created = opts.created ?? [];
  if (!Array.isArray(created)) throw new RuntimeError('invalid list of created cgroups');
  for (const d of created) {
    checkCgroupPath(d, 'created cgroup');
    if (d !== dir && !dir.startsWith(d + '/')) throw new RuntimeError(`invalid created cgroup ${d}: not ${dir} or one of its parents`);
    if (!d.startsWith(mount.mountPoint + '/')) throw new RuntimeError(`invalid created cgroup ${d}: outside ${mount.mountPoint}`);
  }
  return { dir, created: [...created] };
}

export class CgroupHandle {
  protected constructor(
    /** Absolute path in the cgroup2 hierarchy, e.g. /tsrunc/abc. */
    readonly path: string,
    /** Its directory, e.g. /sys/fs/cgroup/tsrunc/abc. */
    readonly dir: string,
    /** Directories this object created, outermost first; persist them to remove them later. */
    readonly created: string[],
  ) {}

  /** An existing cgroup (see checkedOpen). */
  static openHandle(path: string, opts: OpenOptions = {}): CgroupHandle {
    const { dir, created } = checkedOpen(path, opts);
    return new CgroupHandle(path, dir, created);
  }

  /** Whether this object (or the create it was recorded from) made the container's cgroup itself. */
  get ownsDir(): boolean {
    return this.created.includes(this.dir);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  /** An O_RDONLY|O_DIRECTORY fd of the directory, for clone3's CLONE_INTO_CGROUP. Caller closes it. */
  fd(): number {
    return openCgroupFile(this.dir, constants.O_RDONLY | constants.O_DIRECTORY);
  }

  protected write(file: string, value: string): void {
    try {
      writeCgroupFile(posix.join(this.dir, file), value);
    } catch (e) {
      const err = new RuntimeError(`cannot write "${value}" to ${posix.join(this.dir, file)}: ${(e as Error).message}`, { cause: e });
      (err as NodeJS.ErrnoException).code = errnoCode(e);
      throw err;
    }
  }

  isFrozen(): boolean {
    return cgroupFrozen(this.dir);
  }

  /** cgroup.events: populated, frozen. */
  events(): Map<string, number> {
    return parseKeyValues(readCgroupFile(posix.join(this.dir, 'cgroup.events')));
  }

  /** Freeze every process of the cgroup; resolves once the kernel reports it frozen (cgroup.events). */
  async freeze(timeoutMs = 10_000): Promise<void> {
    this.write('cgroup.freeze', '1');
    await waitCgroupEvents(this.dir, (ev) => ev?.get('frozen') === 1, timeoutMs, 'frozen');
  }

  async thaw(timeoutMs = 10_000): Promise<void> {
    this.write('cgroup.freeze', '0');
    await waitCgroupEvents(this.dir, (ev) => ev?.get('frozen') !== 1, timeoutMs, 'thawed');
  }

  /**
   * SIGKILL every process and wait until the cgroup is empty (`populated 0`: exiting tasks leave
   * cgroup.procs before that, and rmdir fails with EBUSY until then). cgroup.kill (5.14+) reaches
   * children forked meanwhile; without it the cgroup is frozen first, so that nothing forks between
   * reading cgroup.procs and the kills (SIGKILL reaches frozen tasks).
   */
  async kill(timeoutMs = 10_000): Promise<void> {
    const empty = (ev: Map<string, number> | undefined) => !ev || ev.get('populated') === 0;
    if (existsSync(posix.join(this.dir, 'cgroup.kill'))) {
      this.write('cgroup.kill', '1');
    } else {
      await this.freeze(timeoutMs);
      killAll(this.pids());
    }
    try {
      await waitCgroupEvents(this.dir, empty, timeoutMs, 'empty after kill');
    } catch (e) {
      if (!(e instanceof RuntimeError) || !this.exists()) throw e;
      throw new RuntimeError(`cgroup ${this.path} still has processes ${this.pids().join(',')} after kill`);
    }
  }

  /** Pids of every process in this cgroup and its descendants. */
  pids(): number[] {
    return collectPids(this.dir);
  }

  /**
   * A cgroup tsrunc made: kill what is left in it (the container's processes only: nobody else's can be
   * there) and remove it with its sub-cgroups. A pre-existing one is never killed or removed; `warn`
   * hears when it still has processes (runc's behaviour). Then the parents `create` made, if empty.
   */
  async remove(warn?: (message: string) => void): Promise<void> {
    if (this.ownsDir) {
      if (this.exists() && !removeIfEmpty(this.dir)) {
        if (this.pids().length || this.events().get('populated') === 1) await this.kill();
        removeTree(this.dir);
      }
    } else if (this.exists() && (this.pids().length || this.events().get('populated') === 1)) {
      warn?.(`cgroup ${this.path} was not made by tsrunc and is not empty: left in place`);
    }
    for (const d of [...this.created].reverse()) if (d !== this.dir) rmdirQuiet(d);
  }
}

function collectPids(dir: string): number[] {
  const text = readOptional(posix.join(dir, 'cgroup.procs'));
  if (text === undefined) return [];
  const pids = text.split('\n').filter(Boolean).map(Number);
  for (const sub of subdirs(dir)) pids.push(...collectPids(posix.join(dir, sub)));
  return pids;
}

function subdirs(dir: string): string[] {
  let fd: number;
  try {
    fd = openCgroupFile(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  try {
    // through the checked fd: the path itself is not walked again
    return readdirSync(`/proc/self/fd/${fd}`, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  } finally {
    closeSync(fd);
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw e;
    }
  }
}

/**
 * The usual case of delete: the cgroup is empty by now, and one rmdir removes it (the kernel refuses
 * one with processes or sub-cgroups: EBUSY), after the same check as every other access that the path
 * is a cgroup beneath the cgroup2 mount. False: not empty, kill and remove the tree.
 */
function removeIfEmpty(dir: string): boolean {
  try {
    closeSync(openCgroupFile(dir, constants.O_RDONLY | constants.O_DIRECTORY));
    rmdirSync(dir);
    return true;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return false;
    throw e;
  }
}

/** rmdir a cgroup after its sub-cgroups (cgroupfs only removes empty leaves). */
function removeTree(dir: string): void {
  for (const sub of subdirs(dir)) removeTree(posix.join(dir, sub));
  try {
    rmdirSync(dir);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw new RuntimeError(`cannot remove cgroup ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

export function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty, busy or gone: someone else's now */
  }
}
