// The container's cgroup v2 directory: create (enabling controllers on the way), apply, freeze, stats;
// opening, killing and removing an existing one is CgroupHandle's (handle.ts), which this extends.
import { existsSync, mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import { ConfigError, errnoCode, RuntimeError } from '../errors';
import { cgroupInode, readCgroupFile, readOptional, writeCgroupFile } from './fsutil';
import { CgroupHandle, checkedOpen, rmdirQuiet, type CgroupOptions, type OpenOptions } from './handle';
import { cgroup2Mount } from './mountinfo';
import { cgroupDir } from './path';
import { requiredControllers, resourceWrites, type CgroupWrite } from './resources';
import { readStats, type Stats } from './stats';
import type { LinuxResources } from './types';

export type { CgroupOptions, OpenOptions } from './handle';

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

export class Cgroup extends CgroupHandle {
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
    const { dir, created } = checkedOpen(path, opts);
    return new Cgroup(path, dir, created);
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

  stats(): Stats {
    return readStats(this.dir, (name) => readOptional(posix.join(this.dir, name)));
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
