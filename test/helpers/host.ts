// What the tests read on the host: /proc/<pid>/status, liveness, cgroup directories, leftovers; and
// the one temp-dir helper. Kernel facts, never tsrunc's own bookkeeping.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { listProcesses } from '../setup/leaks';
import { alive, sleep } from './base';
import { runId, testRoot } from './env';
import { removeTree } from './fs';
import { cgroup2Mount, readMountinfo } from './mountinfo';

const hostDirs: string[] = [];
afterAll(() => {
  for (const d of hostDirs.splice(0)) removeTree(d);
});

/**
 * A host directory (e.g. to bind into a container), removed after the test file without ever
 * descending into a mount point below it (removeTree refuses): a leaked bind must not cost host files.
 */
export function hostDir(tag = 'host'): string {
  const d = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-${tag}-`));
  hostDirs.push(d);
  return d;
}

/** One field of a /proc/<pid>/status text, e.g. statusField(s, 'CapEff'). Throws if absent. */
export function statusField(status: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status); // not \s: an empty field must not eat the newline
  if (!m) throw new Error(`no ${name} in status:\n${status}`);
  return m[1]!.trim();
}

export function procStatus(pid: number | 'self'): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8');
}

export { alive, procState, sleep } from './base';

/** Polls `probe` until it returns a value other than false/undefined; throws naming `what` after `timeout` ms. */
export async function waitFor<T>(what: string, probe: () => T | false | undefined | Promise<T | false | undefined>, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v !== false && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The cgroup2 mount point; throws on a machine without one. */
export function cgroup2Root(): string {
  const m = cgroup2Mount();
  if (!m) throw new Error('no cgroup2 mount on this host');
  return m;
}

/** The host directory of cgroup `path` (as /proc/<pid>/cgroup shows it). */
export function cgroupPathDir(path: string): string {
  return join(cgroup2Root(), path);
}

/** The default cgroup directory of container `id` (`/tsrunc/<id>` from the hierarchy root). */
export function containerCgroupDir(id: string): string {
  return cgroupPathDir(join('/tsrunc', id));
}

/** The cgroup v2 path of a process ("0::<path>" in /proc/<pid>/cgroup). */
export function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new Error(`process ${pid} is in no cgroup v2`);
  return line.slice(3);
}

/** Pids in a cgroup directory (cgroup.procs: the kernel's view, not tsrunc's). */
export function cgroupProcs(dir: string): number[] {
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

export interface HostSnapshot {
  mounts: Set<string>;
  procs: Set<string>;
  rootEntries: Set<string>;
}

/** What expectNothingLeft compares against: take it before the command under test. */
export function hostSnapshot(root = testRoot()): HostSnapshot {
  return {
    mounts: new Set(readMountinfo().map((m) => m.line)),
    procs: new Set(listProcesses().map((p) => `${p.pid}:${p.startTime}`)),
    rootEntries: new Set(readdirSync(root)),
  };
}

export interface LeftoverOptions {
  /** A bundle dir: processes rooted there and mounts below it count as the container's. */
  bundleDir?: string;
  /** Pids that must be gone (not even zombies of ours). */
  pids?: number[];
  /** Cgroup directories that must be gone (beyond the default one). */
  cgroupDirs?: string[];
  root?: string;
}

/**
 * Nothing of container `id` ('' when there is no valid id) appeared since `before` or survives: no state dir, no cgroup, no mount,
 * no process. Mounts count when their path names tsrunc (test bundles and roots all do), so that
 * another test run on a shared machine does not fail this one.
 */
export function expectNothingLeft(before: HostSnapshot, id: string, opts: LeftoverOptions = {}): void {
  const root = opts.root ?? testRoot();
  expect(readdirSync(root).filter((e) => !before.rootEntries.has(e)), 'state dirs').toEqual([]);
  if (id) expect(existsSync(join(root, id)), 'state dir').toBe(false);
  for (const d of [...(id ? [containerCgroupDir(id)] : []), ...(opts.cgroupDirs ?? [])]) expect(existsSync(d), `cgroup ${d}`).toBe(false);
  const newMounts = readMountinfo().filter((m) => !before.mounts.has(m.line) && (m.mountPoint.includes('tsrunc') || (opts.bundleDir && m.mountPoint.startsWith(opts.bundleDir))));
  expect(newMounts.map((m) => m.line), 'mounts').toEqual([]);
  for (const pid of opts.pids ?? []) expect(alive(pid), `process ${pid}`).toBe(false);
  const strays = listProcesses().filter((p) => {
    if (before.procs.has(`${p.pid}:${p.startTime}`) || !p.reason || p.pid === process.pid) return false;
    let cg = '';
    try {
      cg = readFileSync(`/proc/${p.pid}/cgroup`, 'utf8');
    } catch {
      return false;
    }
    return (id !== '' && cg.includes(`/tsrunc/${id}`)) || (opts.bundleDir !== undefined && p.reason.includes(opts.bundleDir)) || p.cmdline.includes(root);
  });
  expect(strays, 'processes').toEqual([]);
}
