/**
 * A container without a mount namespace of its own mounts under root.path in the runtime's namespace (as
 * runc does), where nothing would ever take those mounts down again. Before create starts anything it
 * writes down which mounts already exist under root.path (a write-ahead record in the state directory);
 * whatever appears under it afterwards is the container's, and delete or a failed create detaches it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mountsAtOrUnder } from '../cgroups/mountinfo';
import { native } from '../native';
import { readTextIfPresent } from '../read-if-present';

const FILE = 'host-mounts.json';

export interface HostMountRecord {
  rootfs: string;
  /** Mount ids under rootfs before create. */
  before: number[];
}

function mountsUnder(rootfs: string): { id: number; mountPoint: string }[] {
  return mountsAtOrUnder(fs.readFileSync('/proc/self/mountinfo', 'utf8'), rootfs);
}

/** Write down the mounts under `rootfs` (before create mounts anything there). */
export function recordHostMounts(stateDir: string, rootfs: string): void {
  const real = fs.realpathSync(rootfs);
  const rec: HostMountRecord = { rootfs: real, before: mountsUnder(real).map((m) => m.id) };
  const tmp = path.join(stateDir, `.${FILE}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(rec));
  fs.renameSync(tmp, path.join(stateDir, FILE));
}

/**
 * The write-ahead journal entry for a mount about to be made on `target` by the caller itself (the shim's
 * rootfs): the mounts already at or under it are not ours, everything that appears there later is.
 */
export function mountIntent(target: string): { op: 'mount'; target: string; before: number[] } {
  const real = fs.realpathSync(target);
  return { op: 'mount', target: real, before: mountsUnder(real).map((m) => m.id) };
}

/**
 * Detach every mount under the recorded rootfs that was not there before create, newest first (children
 * and stacked mounts before what they cover). Returns what could not be detached; nothing to do without a
 * record.
 */
export function undoHostMounts(stateDir: string): string[] {
  const rec = readHostMounts(stateDir);
  return rec ? undoRecorded(rec) : [];
}

/** The record in a state directory, if there is one. */
export function readHostMounts(stateDir: string): HostMountRecord | undefined {
  // most containers have none (a mount namespace of their own)
  const text = readTextIfPresent(path.join(stateDir, FILE));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as HostMountRecord;
  } catch {
    return undefined;
  }
}

/** undoHostMounts for a record read earlier (its directory may be gone). */
export function undoRecorded(rec: HostMountRecord): string[] {
  const before = new Set(rec.before);
  const failures: string[] = [];
  for (const m of mountsUnder(rec.rootfs).reverse()) {
    if (before.has(m.id)) continue;
    try {
      // A path through a symlink is no longer the one we mounted on: never follow it out of the rootfs.
      if (fs.realpathSync(m.mountPoint) !== m.mountPoint) throw new Error('its path goes through a symlink now');
      native().umountDetach(m.mountPoint);
    } catch (err) {
      // Detached already with its parent (MNT_DETACH takes the subtree): not a failure.
      if ((err as NodeJS.ErrnoException & { errno?: number }).errno === 22 && !mountsUnder(rec.rootfs).some((x) => x.id === m.id)) continue;
      failures.push(`${m.mountPoint}: ${(err as Error).message}`);
    }
  }
  return failures;
}
