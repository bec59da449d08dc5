// Waiting for a cgroup to reach a state (frozen, thawed, empty) without polling: the kernel notifies a
// change of cgroup.events (populated, frozen) through inotify (kernfs_notify, cgroup v2), so the wait
// re-reads the file only when it changed, and a timer bounds it. The watch is set on the file opened
// beneath the cgroup2 mount (openat2, fsutil.ts), through /proc/self/fd: never on a path that a
// state.json could point elsewhere.
import { closeSync, constants, watch, type FSWatcher } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode, RuntimeError } from '../errors';
import { openCgroupFile, parseKeyValues, readCgroupFile } from './fsutil';

/** cgroup.events of `dir`, or undefined once the cgroup is gone. */
export function readEvents(dir: string): Map<string, number> | undefined {
  try {
    return parseKeyValues(readCgroupFile(posix.join(dir, 'cgroup.events')));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Resolves once `done(cgroup.events)` holds (undefined: the cgroup was removed), rejects after
 * `timeoutMs` naming `what`. The watch is in place before the first read, so no change is missed.
 */
export function waitCgroupEvents(
  dir: string,
  done: (ev: Map<string, number> | undefined) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  let watcher: FSWatcher | undefined;
  let fd = -1;
  try {
    fd = openCgroupFile(posix.join(dir, 'cgroup.events'), constants.O_RDONLY);
    // Not persistent: the timer keeps the process alive for as long as the wait may last.
    watcher = watch(`/proc/self/fd/${fd}`, { persistent: false });
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') return Promise.reject(e);
    // No cgroup.events: the cgroup is gone (or going); `done` decides.
    return done(undefined) ? Promise.resolve() : Promise.reject(new RuntimeError(`cgroup ${dir} does not exist`));
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  const w = watcher;
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      w.close();
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      try {
        if (done(readEvents(dir))) finish();
      } catch (e) {
        finish(e);
      }
    };
    const timer = setTimeout(() => finish(new RuntimeError(`cgroup ${dir} not ${what} after ${timeoutMs} ms`)), timeoutMs);
    w.on('change', check);
    w.on('error', (e) => finish(e));
    check();
  });
}
