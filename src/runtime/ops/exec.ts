import fs from 'node:fs';
import path from 'node:path';
import type { Process, Spec } from '../config/types';
import { RuntimeError } from '../errors';
import { HelperSession } from '../helper';
import { native } from '../native';
import { buildExecPlan } from '../plan/build-exec';
import { Msg } from '../plan/ops';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { type ConsoleTarget, openConsole } from './console';
import { recordCgroup } from './container-cgroup';
import { Cgroup } from '../cgroups';
import type { ContainerRecord } from '../state/record';
import { ociState } from './state';
import { connectSeccompListener, processState, SECCOMP_LISTENER_SYNC } from './seccomp-listener';
import { forwardSignals, stdioFds, waitExitStatus, writePidFile } from './process-io';
import { checkPreservedFds } from './preserve-fds';

/** What `exec` may change about the container's own process (runc's flags). */
export interface ExecOverrides {
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid?: number };
  additionalGids?: number[];
  addCaps?: string[];
  noNewPrivileges?: boolean;
  terminal?: boolean;
  /** The pty's size from the start (a foreground terminal's own), so the process never sees 0x0. */
  consoleSize?: { height: number; width: number };
  /** runc's --apparmor: this profile instead of the container's (also over a --process file's). */
  apparmorProfile?: string;
  /** runc's --process-label: this SELinux label instead of the container's. */
  selinuxLabel?: string;
}

export interface ExecOptions {
  root: string;
  id: string;
  /** A complete process (`--process FILE`); else the container's, with `overrides`. */
  process?: Process;
  overrides?: ExecOverrides;
  detach?: boolean;
  pidFile?: string;
  /** Told the process's pid once it runs (an in-process caller needs no pid file). */
  onPid?: (pid: number) => void;
  console?: ConsoleTarget;
  preserveFds?: number;
  ignorePaused?: boolean;
  /** A sub-cgroup of the container's, relative to it, that must exist (runc's `exec --cgroup`). */
  subCgroup?: string;
  /** Told about what the process runs without (capabilities that cannot be granted). */
  warn?: (message: string) => void;
  /** The process's stdin, stdout and stderr (default: ours). */
  stdio?: number[];
}

/** The process to run: runc's rules for combining the container's process and the flags. */
export function execProcess(spec: Spec, o: ExecOverrides): Process {
  const base = spec.process ?? { cwd: '/', user: { uid: 0, gid: 0 } };
  const caps = base.capabilities ?? {};
  const add = (set?: string[]) => [...new Set([...(set ?? []), ...(o.addCaps ?? [])])];
  return {
    ...base,
    terminal: o.terminal ?? false,
    consoleSize: o.consoleSize ?? base.consoleSize,
    args: o.args,
    env: [...(base.env ?? []), ...(o.env ?? [])],
    cwd: o.cwd ?? base.cwd,
    user: o.user
      ? { uid: o.user.uid, gid: o.user.gid ?? 0, additionalGids: o.additionalGids ?? base.user?.additionalGids }
      : { ...base.user!, additionalGids: o.additionalGids ?? base.user?.additionalGids },
    capabilities: o.addCaps?.length
      ? { bounding: add(caps.bounding), effective: add(caps.effective), permitted: add(caps.permitted), inheritable: caps.inheritable, ambient: caps.ambient }
      : caps,
    noNewPrivileges: o.noNewPrivileges || base.noNewPrivileges,
  };
}

/** The exec'd process keeps the container's AppArmor profile and SELinux label unless the flags name others. */
function withLsmOverrides(proc: Process, o: ExecOverrides | undefined): Process {
  if (!o?.apparmorProfile && !o?.selinuxLabel) return proc;
  return { ...proc, apparmorProfile: o.apparmorProfile || proc.apparmorProfile, selinuxLabel: o.selinuxLabel || proc.selinuxLabel };
}

/** `exec`: one more process in a running container. Returns its exit status (0 when detached). */
export async function exec(opts: ExecOptions): Promise<number> {
  const store = new StateStore(opts.root);
  const record = store.read(opts.id);
  const status = containerStatus(record, store.dir(opts.id));
  if (status === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused' && !opts.ignorePaused) throw new RuntimeError('cannot exec in a paused container (use --ignore-paused)');

  const spec = JSON.parse(fs.readFileSync(`${record.bundle}/config.json`, 'utf8')) as Spec;
  const proc = withLsmOverrides(opts.process ?? execProcess(spec, opts.overrides ?? {}), opts.overrides);
  if (!proc.args?.length) throw new RuntimeError('exec: no command given');

  const preserveFds = opts.preserveFds ?? 0;
  checkPreservedFds(preserveFds);
  // Checked before anything is opened: a wrong sub-cgroup fails with nothing to undo.
  const cgroupDir = execCgroupDir(record.cgroupDir, opts.subCgroup);
  const console = proc.terminal ? openConsole(opts.console) : undefined;
  const fds = [...(opts.stdio ?? stdioFds()), ...Array.from({ length: preserveFds }, (_, i) => 3 + i)];
  if (console) fds.push(console.helperFd);
  let listenerFd = -1;
  try {
    listenerFd = connectSeccompListener(spec);
  } catch (e) {
    console?.closeHelperEnd();
    console?.close();
    throw e;
  }
  if (listenerFd >= 0) fds.push(listenerFd);
  if (!opts.detach) native().setChildSubreaper();
  // state.json is untrusted: cgroups are opened checked, beneath the cgroup2 mount (container-cgroup.ts)
  const cgroupFd = execCgroupFd(record, cgroupDir, opts.subCgroup);
  let session: HelperSession;
  try {
    session = HelperSession.spawn(fds, cgroupFd);
  } finally {
    if (cgroupFd >= 0) fs.closeSync(cgroupFd);
    if (listenerFd >= 0) fs.closeSync(listenerFd);
    console?.closeHelperEnd();
  }
  let pidfd = -1;
  let stopForwarding = () => {};
  try {
    // Built once the helper is on its way: its exec and C start-up run on the other CPU meanwhile (a
    // plan the helper refuses, or a config error here, ends it in the catch below).
    const plan = buildExecPlan(proc, spec.linux?.seccomp, {
      id: opts.id,
      initPid: record.pid,
      initStartTime: record.pidStartTime,
      preserveFds,
      consoleSocketFd: console ? 3 + preserveFds : undefined,
      seccompListenerFd: listenerFd >= 0 ? 3 + preserveFds + (console ? 1 : 0) : undefined,
      personality: spec.linux?.personality,
      warn: opts.warn,
    });
    session.sendPlan(plan.encode());
    let pid = 0;
    // Detached with no seccomp agent, nothing needs an answer or the pid before the process runs: one
    // wake-up when the helpers are done instead of one per message (the pid, the first helper's exit).
    if (opts.detach && listenerFd < 0) await session.hangup();
    // The socket closes when the process execs (close-on-exec) and the first helper has gone.
    for (let msg = await session.next(); msg; msg = await session.next()) {
      if (msg.tag === Msg.PID) {
        pid = Number(msg.payload);
        pidfd = openExecPidfd(pid, opts.detach);
        // From now on a signal to us is the process's: until the forwarders are in, one would end tsrunc.
        if (!opts.detach) stopForwarding = forwardSignals((signo) => native().pidfdSendSignal(pidfd, signo));
        await session.reapFirst();
      } else if (msg.tag === Msg.SYNC && msg.payload === SECCOMP_LISTENER_SYNC) {
        // What the seccomp agent gets with the notify fd: the process is the exec'd one.
        const state = ociState(record, 'running');
        session.send(Msg.GO, JSON.stringify(processState(spec, pid, state)));
      }
    }
    if (!pid) throw new RuntimeError('exec: the process did not start');
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    opts.onPid?.(pid);
    await console?.deliver();
    if (opts.detach) return 0;
    return await waitExitStatus(pidfd);
  } catch (err) {
    if (pidfd >= 0) native().pidfdSendSignal(pidfd, 9);
    await session.abort().catch(() => undefined);
    throw err;
  } finally {
    stopForwarding();
    if (pidfd >= 0) fs.closeSync(pidfd);
    session.close();
    console?.close();
  }
}


/** An fd of the container's cgroup or of the checked sub-cgroup, opened beneath the cgroup2 mount. */
function execCgroupFd(record: ContainerRecord, cgroupDir: string, sub: string | undefined): number {
  const cgroup = recordCgroup(record);
  if (!cgroup || sub === undefined || !record.cgroupPath) return cgroup?.fd() ?? -1;
  return Cgroup.open(path.posix.join(record.cgroupPath, path.posix.relative(record.cgroupDir, cgroupDir))).fd();
}

/** The cgroup the process starts in (CLONE_INTO_CGROUP): the container's, or an existing sub-cgroup of it. */
function execCgroupDir(cgroupDir: string, sub: string | undefined): string {
  if (sub === undefined) return cgroupDir;
  if (!cgroupDir) throw new RuntimeError(`sub-cgroup "${sub}": the container has no cgroup`);
  const dir = path.join(cgroupDir, sub);
  if (!dir.startsWith(`${cgroupDir}/`)) throw new RuntimeError(`sub-cgroup "${sub}" is not below the container's cgroup`);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RuntimeError(`sub-cgroup "${sub}": ${code === 'ENOENT' ? `${dir} does not exist` : (e as Error).message}`);
  }
  if (!st.isDirectory()) throw new RuntimeError(`sub-cgroup "${sub}": ${dir} is not a cgroup`);
  return dir;
}

const ESRCH = 3;

/**
 * Detached, the process is reparented to the caller's subreaper once the helper is gone, and a
 * short-lived one may already be reaped there: that is an exit, not an error (runc succeeds too).
 * Attached, we are the subreaper, so the process stays a zombie until we reap it.
 */
function openExecPidfd(pid: number, detach: boolean | undefined): number {
  try {
    return native().pidfdOpen(pid);
  } catch (err) {
    if (detach && (err as { errno?: number }).errno === ESRCH) return -1;
    throw err;
  }
}

