import fs from 'node:fs';
import path from 'node:path';
import { loadBundleConfig } from '../config/load';
import { validateConfig } from '../config/validate';
import type { Spec } from '../config/types';
import { ConfigError, RuntimeError } from '../errors';
import { HelperSession } from '../helper';
import { answerHookSync, runHooksCollecting } from '../hooks';
import { native } from '../native';
import { buildCreatePlan } from '../plan/build';
import { Msg } from '../plan/ops';
import type { Cgroup } from '../cgroups/manager';
import { createContainerCgroup } from './container-cgroup';
import { validateId } from '../state/id';
import type { ContainerRecord } from '../state/record';
import { processStartTime } from '../state/status';
import { isoTime } from '../state/iso-time';
import { crashPoint, startJournal, type Journal } from '../state/journal';
import { StateStore, type LockedDir } from '../state/store';
import { ociState } from './state';
import { connectSeccompListener, processState, SECCOMP_LISTENER_SYNC } from './seccomp-listener';
import { killAndWait } from './kill';
import { type ConsoleTarget, type OpenConsole, openConsole } from './console';
import { pidFileTemp, stdioFds, writePidFile } from './process-io';
import { checkPreservedFds, withListenEnv } from './preserve-fds';
import { recordHostMounts, undoHostMounts } from './host-mounts';
import { OCI_VERSION } from '../spec-version';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  /** Where the pty master goes when process.terminal is set. */
  console?: ConsoleTarget;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** Of the preserved fds, how many come first from socket activation (the process gets LISTEN_FDS). */
  listenFds?: number;
  /** Told about what the container runs without (e.g. capabilities that cannot be granted). */
  warn?: (message: string) => void;
  /** The init's stdin, stdout and stderr (default: ours). */
  stdio?: number[];
  /**
   * The caller's own steps (the shim: its rootfs mount, its stdio), run inside create's write-ahead
   * window: once the state directory and journal exist, before anything else. They record in the journal
   * what they make before making it, clean up themselves when they throw, and return `undo` for a create
   * that fails later; `stdio`, if given, is the init's.
   */
  prepare?: (journal: Journal) => Promise<Prepared>;
}

export interface Prepared {
  stdio?: number[];
  undo(): Promise<void>;
}

/** `create`: everything up to the user's program, which waits for `start`. */
export async function create(opts: CreateOptions): Promise<ContainerRecord> {
  validateId(opts.id);
  const { spec, bundle, rootfs } = loadBundleConfig(opts.bundle);
  validateConfig(spec);
  if (!spec.process?.args?.length) throw new ConfigError('process.args', 'at least one argument is required');
  if (spec.process.terminal && !opts.console) throw new ConfigError('process.terminal', 'a terminal needs --console-socket');
  checkPreservedFds(opts.preserveFds ?? 0);
  if (opts.listenFds) spec.process.env = withListenEnv(spec.process.env, opts.listenFds);

  const store = new StateStore(opts.root);
  // Write-ahead: from here on, everything made on the host is first recorded in dir.journal.
  const dir = await store.createDir(opts.id);
  const journal = startJournal(dir);
  crashPoint('state-dir');
  let cgroup: Cgroup | undefined;
  let session: HelperSession | undefined;
  let console: OpenConsole | undefined;
  let initPid = 0;
  let prepared: Prepared | undefined;
  // No mount namespace of its own: its mounts go into ours, recorded to be undone (host-mounts.ts).
  const sharedMountNs = !(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount');
  try {
    if (opts.prepare) {
      prepared = await opts.prepare(journal);
      if (prepared.stdio) opts = { ...opts, stdio: prepared.stdio };
    }
    if (sharedMountNs) recordHostMounts(dir.path, rootfs);
    cgroup = createContainerCgroup(spec, opts.id, rootless(), journal.cgroupObserver(), opts.root);
    crashPoint('cgroup');
    if (spec.process.terminal) console = openConsole(opts.console);
    const record = await spawnInit(spec, rootfs, opts, dir, cgroup, console, (s) => (session = s), (pid) => (initPid = pid));
    record.bundle = bundle;
    record.rootfs = rootfs;
    crashPoint('ready');
    dir.write(record);
    crashPoint('state-written');
    if (opts.pidFile) {
      const content = String(record.pid);
      journal.append(
        { op: 'file', path: path.resolve(pidFileTemp(opts.pidFile)), content, temp: true },
        { op: 'file', path: path.resolve(opts.pidFile), content },
      );
      writePidFile(opts.pidFile, record.pid);
      crashPoint('pid-file');
    }
    // The payload is what a seccomp listener gets with the notify fd when the filter is loaded after start.
    const listening = spec.linux?.seccomp?.listenerPath !== undefined;
    session!.send(Msg.GO, JSON.stringify(listening ? processState(spec, record.pid, ociState(record, 'created')) : ociState(record, 'created')));
    session!.close();
    await console?.deliver();
    console?.close();
    dir.release();
    return record;
  } catch (err) {
    // Leave the system as if create had never run.
    if (initPid) await killAndWait(initPid);
    if (session) {
      await session.abort().catch(() => undefined);
      session.close();
    }
    console?.close();
    await prepared?.undo().catch(() => undefined);
    await cgroup?.remove();
    const left = undoHostMounts(dir.path);
    if (left.length && err instanceof Error) err.message += ` (and mounts left behind: ${left.join('; ')})`;
    dir.remove();
    if (opts.pidFile) fs.rmSync(opts.pidFile, { force: true });
    // runtime.md: a failed create goes on with "destroyed", then the poststop hooks (failures: warnings).
    if (session) await poststopAfterFailedCreate(spec, opts.id, bundle, err);
    throw err;
  }
}

async function poststopAfterFailedCreate(spec: Spec, id: string, bundle: string, err: unknown): Promise<void> {
  if (!spec.hooks?.poststop?.length) return;
  const state = { ociVersion: OCI_VERSION, id, status: 'stopped', bundle, annotations: spec.annotations ?? {} };
  const warnings = await runHooksCollecting('poststop', spec.hooks.poststop, state);
  if (warnings.length && err instanceof Error) err.message += ` (and ${warnings.join('; ')})`;
}

async function spawnInit(
  spec: Spec,
  rootfs: string,
  opts: CreateOptions,
  dir: LockedDir,
  cgroup: Cgroup | undefined,
  console: OpenConsole | undefined,
  onSession: (s: HelperSession) => void,
  onPid: (pid: number) => void,
): Promise<ContainerRecord> {
  const preserveFds = opts.preserveFds ?? 0;
  // First: a listener that is not there is a config error, with nothing else opened yet.
  const listenerFd = connectSeccompListener(spec);
  const stateDirFd = fs.openSync(dir.path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const plan = buildCreatePlan(spec, {
    id: opts.id,
    rootfs,
    noPivot: opts.noPivot,
    noNewKeyring: opts.noNewKeyring,
    preserveFds,
    stateDirFd: 3 + preserveFds,
    setgroupsDenied: rootless() && (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path),
    consoleSocketFd: console ? 4 + preserveFds : undefined,
    warn: opts.warn,
    seccompListenerFd: listenerFd >= 0 ? 4 + preserveFds + (console ? 1 : 0) : undefined,
  });
  const fds = [...(opts.stdio ?? stdioFds()), ...Array.from({ length: preserveFds }, (_, i) => 3 + i), stateDirFd];
  if (console) fds.push(console.helperFd);
  if (listenerFd >= 0) fds.push(listenerFd);
  const cgroupFd = cgroup ? cgroup.fd() : -1;
  const journal = dir.journal as Journal;
  let session: HelperSession;
  try {
    session = HelperSession.spawn(fds, cgroupFd);
    journal.process(session.pid, 'helper');
    crashPoint('helper');
  } finally {
    fs.closeSync(stateDirFd);
    if (listenerFd >= 0) fs.closeSync(listenerFd);
    if (cgroupFd >= 0) fs.closeSync(cgroupFd);
    console?.closeHelperEnd();
  }
  onSession(session);
  session.sendPlan(plan.encode());

  let pid = 0;
  for (;;) {
    const msg = await session.next();
    if (!msg) throw new RuntimeError('container init exited before the container was created');
    if (msg.tag === Msg.MAPS) {
      writeIdMaps(Number(msg.payload), spec);
      session.send(Msg.GO);
    } else if (msg.tag === Msg.PID) {
      pid = Number(msg.payload);
      onPid(pid);
      journal.process(pid, 'init');
      crashPoint('init-pid');
      // Once the first helper is gone the init has been reparented (to us when we are a subreaper).
      await session.reapFirst();
    } else if (msg.tag === Msg.SYNC && msg.payload === SECCOMP_LISTENER_SYNC) {
      // The filter is loaded before the container is created: the listener sees it "creating".
      const st = { ociVersion: OCI_VERSION, id: opts.id, status: 'creating', pid, bundle: path.resolve(opts.bundle), annotations: spec.annotations ?? {} };
      session.send(Msg.GO, JSON.stringify(processState(spec, (st as { pid: number }).pid, st)));
    } else if (msg.tag === Msg.SYNC) {
      // Hooks: prestart and createRuntime run here; "state" fetches what createContainer hooks read.
      const state = { ociVersion: OCI_VERSION, id: opts.id, status: 'creating', pid, bundle: path.resolve(opts.bundle), annotations: spec.annotations ?? {} };
      const onHook = (hookPid: number) => {
        journal.process(hookPid, 'hook');
        crashPoint('hook');
      };
      session.send(Msg.GO, (await answerHookSync(msg.payload, spec, state, onHook)) ?? '');
    } else if (msg.tag === Msg.READY) {
      break;
    }
  }
  const startTime = processStartTime(pid);
  if (startTime === null) throw new RuntimeError('container init exited before the container was created');
  return {
    ociVersion: spec.ociVersion,
    id: opts.id,
    pid,
    pidStartTime: startTime,
    bundle: '',
    rootfs: '',
    created: isoTime(Date.now()),
    annotations: spec.annotations ?? {},
    cgroupPath: cgroup?.path ?? '',
    cgroupDir: cgroup?.dir ?? '',
    cgroupCreated: cgroup?.created ?? [],
    ownPidNamespace: (spec.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path),
    hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop, startContainer: spec.hooks?.startContainer },
  };
}

/** Run by an unprivileged user: no cgroup unless delegated, setgroups denied in the user namespace. */
export function rootless(): boolean {
  return process.geteuid?.() !== 0;
}

function writeIdMaps(pid: number, spec: Spec): void {
  const lines = (maps?: Array<{ containerID: number; hostID: number; size: number }>) =>
    (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  fs.writeFileSync(`/proc/${pid}/uid_map`, lines(spec.linux?.uidMappings));
  // Without CAP_SETGID in our namespace the kernel takes a gid map only once setgroups is denied.
  if (rootless()) fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  fs.writeFileSync(`/proc/${pid}/gid_map`, lines(spec.linux?.gidMappings));
}

