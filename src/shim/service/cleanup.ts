// Cleaning up after a shim that containerd cannot reach (it died, possibly in the middle of Create): the
// work of the `delete` command, as a library function any launcher of `delete` can call. It removes only
// what tsrunc made: the container's state directory undoes its write-ahead journal (the runtime's steps
// and the shim's own: rootfs mount, logger), and the shim's socket goes only once nothing answers on it.
// With grouping the shim may still serve other containers: only this container is touched.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../runtime/errors';
import { validateId } from '../../runtime/state/id';
import { isMountPoint } from '../mount';
import { socketPath } from '../ttrpc/address';
import { readBundleInfo } from './bundle-info';
import { DEFAULT_ROOT } from './defaults';
import { canConnect } from './socket';

export interface DeadShimCleanup {
  namespace: string;
  id: string;
  /** containerd's bundle of the container (absolute). */
  bundle: string;
  warn: (message: string) => void;
}

/** Removes what is left of container `id`; returns the init's pid when one was recorded (DeleteResponse). */
export async function cleanUpAfterDeadShim(o: DeadShimCleanup): Promise<{ pid: number }> {
  validateId(o.id);
  if (!path.isAbsolute(o.bundle)) throw new ConfigError('-bundle', `${o.bundle} is not absolute`);
  // Written before Create made anything: without it, Create never began (nothing of ours to undo).
  const info = readBundleInfo(o.bundle);
  const root = info?.root ?? path.join(DEFAULT_ROOT, o.namespace);
  const stateDir = path.join(root, o.id);
  if (fs.existsSync(stateDir)) {
    const { deleteContainer } = await import('../../runtime/ops/delete');
    const loggers = await handedOver(stateDir);
    try {
      await deleteContainer(root, o.id, { force: true, warn: o.warn });
    } catch (err) {
      if (!/does not exist/.test((err as Error).message)) o.warn(`delete ${o.id}: ${(err as Error).message}`);
    }
    // A finished Create handed its logger over to the shim, which would have ended it on Delete: its input
    // has ended with the container; SIGTERM (its chance to flush, as the shim gives it) for one that stays.
    for (const l of loggers) if (l.alive()) process.kill(l.pid, 'SIGTERM');
  }
  // A rootfs a finished Create mounted, still there (its journal went with an older shim's state).
  const rootfs = path.join(o.bundle, 'rootfs');
  if (info?.rootfsMounted && isMountPoint(rootfs)) {
    const { unmountRootfs } = await import('../mount');
    await unmountRootfs(rootfs).catch((err: Error) => o.warn(err.message));
  }
  let sock: string | undefined;
  try {
    sock = socketPath(fs.readFileSync(path.join(o.bundle, 'address'), 'utf8').trim());
  } catch {
    // no address file: no socket of ours
  }
  if (sock?.startsWith('/')) {
    await removeIfStale(sock);
    // Shims killed before containerd ever connected to them: no `delete` runs for those.
    await sweepStaleSockets(path.dirname(sock));
  }
  return { pid: info?.pid ?? 0 };
}

/** The processes a finished Create handed over (the binary:// logger), as the journal lists them. */
async function handedOver(stateDir: string): Promise<{ pid: number; alive(): boolean }[]> {
  const { readJournal } = await import('../../runtime/state/journal');
  const { processStartTime } = await import('../../runtime/state/status');
  let entries;
  try {
    entries = readJournal(stateDir);
  } catch {
    return []; // refused as a whole: deleteContainer says why
  }
  return entries.flatMap((e) =>
    e.op === 'process' && e.handover ? [{ pid: e.pid, alive: () => processStartTime(e.pid) === e.startTime }] : [],
  );
}

/** Removes a shim socket (and our `.pid` next to it) that no shim answers on any more. */
async function removeIfStale(sock: string): Promise<void> {
  let before: fs.Stats;
  try {
    before = fs.lstatSync(sock);
  } catch {
    fs.rmSync(`${sock}.pid`, { force: true });
    return;
  }
  if (!before.isSocket() || (await canConnect(sock))) return;
  // A `start` of the same group may have replaced it meanwhile: only the very file found dead goes.
  if (fs.lstatSync(sock, { throwIfNoEntry: false })?.ino !== before.ino) return;
  fs.rmSync(`${sock}.pid`, { force: true });
  fs.rmSync(sock, { force: true });
}

/** The sockets of our dead shims in `dir`: each has a `.pid` (only our shims write one) naming a gone process. */
async function sweepStaleSockets(dir: string): Promise<void> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.pid')) continue;
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isSafeInteger(pid) || pid <= 0 || alive(pid)) continue;
    await removeIfStale(path.join(dir, name.slice(0, -'.pid'.length)));
  }
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}
