// The container's cgroup v2 directory: create (enabling controllers on the way), apply, freeze, kill, remove.
// Only a cgroup tsrunc made is ever killed as a whole or removed: a pre-existing one (linux.cgroupsPath
// naming a cgroup of the host) may hold processes that are not the container's.
import { closeSync, constants, existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { posix } from 'node:path';
import { ConfigError, RuntimeError } from '../errors';
import { cgroupFrozen, cgroupInode, errnoCode, openCgroupFile, parseKeyValues, readCgroupFile, readOptional, writeCgroupFile } from './fsutil';
import { waitCgroupEvents } from './events-wait';
import { cgroup2Mount, type MountInfo } from './mountinfo';
import { cgroupDir, checkCgroupPath } from './path';
import { requiredControllers, resourceWrites, type CgroupWrite } from './resources';
import { readStats, type Stats } from './stats';
import type { LinuxResources } from './types';

export interface CgroupOptions {
  /** The cgroup2 mount to use (default: the first cgroup2 mount in /proc/self/mountinfo). */
  mount?: MountInfo;
}

/**
 * Told about each cgroup (its path in the hierarchy) before it is made and once it exists, so that a
 * write-ahead record (state/journal) can undo a create killed in between.
 */
export interface CgroupMkdirObserver {
  /** `leaf`: the container's own cgroup (not a parent shared with other containers). */
  before(path: string, leaf: boolean): void;
  made(path: string, inode: number, leaf: boolean): void;
}

export interface CreateOptions extends CgroupOptions {
  resources?: LinuxResources;
  /** JSON path of `resources`, for errors. */
  where?: string;
  observer?: CgroupMkdirObserver;
  /**
   * Asked when the container's own cgroup already existed (empty, not frozen): a reason it belongs to
   * another container (e.g. one in the same state root made it), or undefined.
   */
  usedBy?: (path: string) => string | undefined;
}

export interface OpenOptions extends CgroupOptions {
  /** Directories `create` made (Cgroup.created), so `remove` can delete them again. */
  created?: string[];
}

export class Cgroup {
  private constructor(
    /** Absolute path in the cgroup2 hierarchy, e.g. /tsrunc/abc. */
    readonly path: string,
    /** Its directory, e.g. /sys/fs/cgroup/tsrunc/abc. */
    readonly dir: string,
    /** Directories this object created, outermost first; persist them to remove them later. */
    readonly created: string[],
  ) {}

  /** Make the cgroup (mkdir -p) with the controllers `resources` need, and apply them. All or nothing. */
  static create(path: string, opts: CreateOptions = {}): Cgroup {
    const mount = opts.mount ?? cgroup2Mount();
    const where = opts.where ?? 'linux.resources';
    const needed = requiredControllers(opts.resources, where); // validates before touching anything
    const top = cgroupDir(mount.root, mount);
    checkAvailable(top, needed, where);
    const cg = new Cgroup(path, cgroupDir(path, mount), []);
    const enabled: [string, string][] = [];
    try {
      try {
        cg.makeDirs(top, needed, enabled, opts.observer);
      } catch (e) {
        // a parent seen a moment ago was removed (the last container under it was deleted): once more
        if (errnoCode(e) !== 'ENOENT') throw e;
        cg.makeDirs(top, needed, enabled, opts.observer);
      }
      // Before any write to it: a pre-existing cgroup may be another container's (runc >= 1.2 refuses too).
      if (!cg.ownsDir) cg.checkUnused(opts.usedBy);
      cg.apply(opts.resources, where);
    } catch (e) {
      cg.rollback(enabled);
      throw e;
    }
    return cg;
  }

  /**
   * An existing cgroup. `path` and `created` may come from state.json: both are checked (normalized,
   * below the cgroup2 mount; `created` only the cgroup itself and its ancestors).
   */
  static open(path: string, opts: OpenOptions = {}): Cgroup {
    const mount = opts.mount ?? cgroup2Mount();
    const dir = cgroupDir(path, mount);
    const created = opts.created ?? [];
    if (!Array.isArray(created)) throw new RuntimeError('invalid list of created cgroups');
    for (const d of created) {
      checkCgroupPath(d, 'created cgroup');
      if (d !== dir && !dir.startsWith(d + '/')) throw new RuntimeError(`invalid created cgroup ${d}: not ${dir} or one of its parents`);
      if (!d.startsWith(mount.mountPoint + '/')) throw new RuntimeError(`invalid created cgroup ${d}: outside ${mount.mountPoint}`);
    }
    return new Cgroup(path, dir, [...created]);
  }

  /** Whether this object (or the create it was recorded from) made the container's cgroup itself. */
  get ownsDir(): boolean {
    return this.created.includes(this.dir);
  }

  /** mkdir each missing component below `top`, enabling `needed` in every ancestor's subtree_control. */
  private makeDirs(top: string, needed: string[], enabled: [string, string][], observer?: CgroupMkdirObserver): void {
    const rel = posix.relative(top, this.dir);
    if (!rel || rel.startsWith('..')) throw new RuntimeError(`cgroup ${this.path} is not below ${top}`);
    let cur = top;
    for (const part of rel.split('/')) {
      enableControllers(cur, needed, enabled);
      cur = posix.join(cur, part);
      if (existsSync(cur)) continue;
      const leaf = cur === this.dir;
      const path = posix.join(this.path, posix.relative(this.dir, cur));
      observer?.before(path, leaf);
      try {
        mkdirSync(cur);
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') continue; // someone else's, made just now
        throw e;
      }
      if (!this.created.includes(cur)) this.created.push(cur);
      if (observer) observer.made(path, cgroupInode(cur) ?? 0, leaf);
    }
  }

  /**
   * Throws unless a cgroup we did not make is free for the container: no process in it or below it, not
   * frozen, and (`usedBy`) not another container's. Otherwise both would share limits, and a delete or
   * `kill --all` of one would reach the other.
   */
  private checkUnused(usedBy?: (path: string) => string | undefined): void {
    const pids = this.pids();
    const populated = this.events().get('populated') === 1;
    let why: string | undefined;
    if (pids.length || populated) why = `already has processes (${pids.slice(0, 5).join(', ') || 'exiting'}${pids.length > 5 ? ', ...' : ''})`;
    else if (this.isFrozen()) why = 'is frozen';
    else why = usedBy?.(this.path);
    if (why) throw new ConfigError('linux.cgroupsPath', `cgroup ${this.path} ${why}: a container needs a cgroup no other process or container uses`);
  }

  private rollback(enabled: [string, string][]): void {
    for (const d of [...this.created].reverse()) rmdirQuiet(d);
    for (const [d, c] of enabled.reverse()) {
      try {
        writeCgroupFile(posix.join(d, 'cgroup.subtree_control'), `-${c}`);
      } catch {
        /* best effort: a sibling may use it now */
      }
    }
    this.created.length = 0;
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  /** An O_RDONLY|O_DIRECTORY fd of the directory, for clone3's CLONE_INTO_CGROUP. Caller closes it. */
  fd(): number {
    return openCgroupFile(this.dir, constants.O_RDONLY | constants.O_DIRECTORY);
  }

  /** Move process `pid` into this cgroup. */
  addProcess(pid: number): void {
    this.write('cgroup.procs', String(pid));
  }

  /** Enable in every ancestor the controllers `resources` need: an update may need more than create did. */
  enableFor(resources: LinuxResources | undefined, where = 'linux.resources'): void {
    const needed = requiredControllers(resources, where);
    if (!needed.length) return;
    const mount = cgroup2Mount();
    const top = cgroupDir(mount.root, mount);
    checkAvailable(top, needed, where);
    let cur = top;
    for (const part of posix.relative(top, this.dir).split('/')) {
      enableControllers(cur, needed, []);
      cur = posix.join(cur, part);
    }
  }

  /** Apply `linux.resources` (creation and `update`). */
  apply(resources: LinuxResources | undefined, where = 'linux.resources'): void {
    for (const w of resourceWrites(resources, where)) this.applyWrite(w);
  }

  private applyWrite(w: CgroupWrite): void {
    if (w.notBelow) {
      const cur = Number(readCgroupFile(posix.join(this.dir, w.notBelow)));
      if (cur > Number(w.value)) {
        throw new RuntimeError(`cannot set ${w.file} to ${w.value}: below the current usage ${cur} (${w.notBelow})`);
      }
    }
    try {
      this.write(w.file, w.value);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      if (w.fallback) this.write(w.fallback.file, w.fallback.value);
      else if (!w.ignoreMissing) throw e;
    }
  }

  private write(file: string, value: string): void {
    try {
      writeCgroupFile(posix.join(this.dir, file), value);
    } catch (e) {
      const err = new RuntimeError(`cannot write "${value}" to ${posix.join(this.dir, file)}: ${(e as Error).message}`, { cause: e });
      (err as NodeJS.ErrnoException).code = errnoCode(e);
      throw err;
    }
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

  isFrozen(): boolean {
    return cgroupFrozen(this.dir);
  }

  /** cgroup.events: populated, frozen. */
  events(): Map<string, number> {
    return parseKeyValues(readCgroupFile(posix.join(this.dir, 'cgroup.events')));
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

  stats(): Stats {
    return readStats(this.dir, (name) => readOptional(posix.join(this.dir, name)));
  }

  /**
   * A cgroup tsrunc made: kill what is left in it (the container's processes only: nobody else's can be
   * there) and remove it with its sub-cgroups. A pre-existing one is never killed or removed; `warn`
   * hears when it still has processes (runc's behaviour). Then the parents `create` made, if empty.
   */
  async remove(warn?: (message: string) => void): Promise<void> {
    if (this.ownsDir) {
      if (this.exists()) {
        if (this.pids().length || this.events().get('populated') === 1) await this.kill();
        removeTree(this.dir);
      }
    } else if (this.exists() && (this.pids().length || this.events().get('populated') === 1)) {
      warn?.(`cgroup ${this.path} was not made by tsrunc and is not empty: left in place`);
    }
    for (const d of [...this.created].reverse()) if (d !== this.dir) rmdirQuiet(d);
  }
}

function checkAvailable(top: string, needed: string[], where: string): void {
  if (!needed.length) return;
  const avail = readCgroupFile(posix.join(top, 'cgroup.controllers')).trim().split(/\s+/);
  const missing = needed.filter((c) => !avail.includes(c));
  if (missing.length) {
    throw new RuntimeError(`${where}: cgroup controller(s) ${missing.join(', ')} not available in ${top} (cgroup.controllers: ${avail.join(' ') || 'none'})`);
  }
}

function enableControllers(dir: string, needed: string[], enabled: [string, string][]): void {
  if (!needed.length) return;
  const file = posix.join(dir, 'cgroup.subtree_control');
  const have = readCgroupFile(file).trim().split(/\s+/);
  for (const c of needed) {
    if (have.includes(c)) continue;
    try {
      writeCgroupFile(file, `+${c}`);
    } catch (e) {
      throw new RuntimeError(`cannot enable the ${c} controller in ${file}: ${(e as Error).message}` +
        (errnoCode(e) === 'EBUSY' ? ' (that cgroup has processes of its own)' : ''), { cause: e });
    }
    enabled.push([dir, c]);
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

/** rmdir a cgroup after its sub-cgroups (cgroupfs only removes empty leaves). */
function removeTree(dir: string): void {
  for (const sub of subdirs(dir)) removeTree(posix.join(dir, sub));
  try {
    rmdirSync(dir);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw new RuntimeError(`cannot remove cgroup ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty, busy or gone: someone else's now */
  }
}
