import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../config/types';
import { cgroupDir, resolveCgroupPath } from '../cgroups/path';

/** The container's cgroup v2 directory as create and delete use it. */
export interface ContainerCgroup {
  dir: string;
  /** Whether we made it (and so remove it on delete). */
  owned: boolean;
  /** An fd for CLONE_INTO_CGROUP. */
  openFd(): number;
  remove(): void;
}

export function openContainerCgroup(spec: Spec, id: string): ContainerCgroup {
  const dir = cgroupDir(resolveCgroupPath(spec.linux?.cgroupsPath, id));
  const owned = !fs.existsSync(dir);
  const created = fs.mkdirSync(dir, { recursive: true });
  return {
    dir,
    owned,
    openFd: () => fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY),
    remove: () => {
      if (owned) removeCgroupDirs(dir, created);
    },
  };
}

/** Removes `dir` and the parents up to `firstCreated` that mkdir made. */
export function removeCgroupDirs(dir: string, firstCreated: string | undefined): void {
  killCgroup(dir);
  let d = dir;
  for (;;) {
    try {
      fs.rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (!firstCreated || d === firstCreated || d === path.dirname(d)) break;
    d = path.dirname(d);
  }
}

function killCgroup(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch {
    // gone already, or a kernel without cgroup.kill
  }
  for (let i = 0; i < 1000; i++) {
    let procs = '';
    try {
      procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
    } catch {
      return;
    }
    if (!procs.trim()) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
}

/** Every pid in the cgroup and its descendants. */
export function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const line of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.push(Number(line));
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      // removed meanwhile
    }
  };
  walk(dir);
  return pids;
}
