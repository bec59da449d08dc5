import fs from 'node:fs';
import type { LinuxPersonality, LinuxSeccomp, Process } from '../config/types';
import { NAMESPACES } from '../config/namespaces';
import { Plan, s, u64 } from './encode';
import { addConsoleStep, addHomeStep, addOomStep, addPersonalityStep, addProcessSteps } from './build';
import { addLsmSteps, hostLsm, type LsmHost } from '../lsm';
import { native } from '../native';
import { RuntimeError } from '../errors';

export interface ExecPlanOptions {
  id: string;
  /** The container init, whose namespaces the process joins. */
  initPid: number;
  /** Its start time (state.json's, checked against the running process): the helper pins it by this. */
  initStartTime: number;
  preserveFds: number;
  consoleSocketFd?: number;
  /** Connected to linux.seccomp.listenerPath: the notify fd goes there. */
  seccompListenerFd?: number;
  /** The container's linux.personality: an exec'd process runs under it too (as runc does). */
  personality?: LinuxPersonality;
  /** Told what the plan leaves out (capabilities that cannot be granted). */
  warn?: (message: string) => void;
  /** Which LSMs the host runs (default: read from the host). */
  lsm?: LsmHost;
}


/**
 * The namespaces of `pid` that differ from ours: the user namespace first (it owns the others), the
 * mount namespace last (its /proc no longer shows `pid`).
 */
export function namespacesToJoin(pid: number): Array<{ type: string; path: string; flag: number }> {
  const types = Object.keys(NAMESPACES);
  const names = types.map((type) => NAMESPACES[type].procName);
  // one addon call per side: sixteen fs.statSync had cost a cold exec ~0.85 ms
  const theirs = native().inodesIn(`/proc/${pid}/ns`, names);
  const ours = native().inodesIn('/proc/self/ns', names);
  // joining nothing would run the process in the runtime's namespaces
  if (!theirs || !ours) throw new RuntimeError(`exec: the container's init (pid ${pid}) has exited`);
  const joins = [];
  for (let i = 0; i < types.length; i++) {
    // -1: a kernel without this namespace type
    if (theirs[i] >= 0 && theirs[i] !== ours[i]) joins.push({ type: types[i], path: `/proc/${pid}/ns/${names[i]}`, flag: NAMESPACES[types[i]].flag });
  }
  const rank = (type: string) => (type === 'user' ? 0 : type === 'mount' ? 2 : 1);
  return joins.sort((a, b) => rank(a.type) - rank(b.type));
}

/** Whether the init's user namespace denies setgroups(2) (made by an unprivileged runtime). */
function setgroupsDenied(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

/** Steps that run one more process in an existing container. */
export function buildExecPlan(proc: Process, seccomp: LinuxSeccomp | undefined, opts: ExecPlanOptions): Plan {
  const plan = new Plan();
  addOomStep(plan, proc);
  // Stage 1, still in the runtime's namespaces: the exec attribute, through the runtime's /proc (it
  // survives setns and fork; the kernel applies it at the final execve).
  addLsmSteps(plan, proc, opts.lsm ?? hostLsm());
  // Everything below opens /proc/<init pid>/...: the pin makes sure that number named the init all along
  // (not a process that got the pid after the init was reaped), checked once the last is opened.
  plan.add('PIN_PID', 'exec', u64(opts.initPid), u64(opts.initStartTime));
  // Open all, then join (user first): once in the user namespace the init's /proc files are closed to us.
  const joins = namespacesToJoin(opts.initPid);
  for (const ns of joins) plan.add('SETNS', `namespace ${ns.type}`, s(ns.path), u64(ns.flag));
  if (joins.length) plan.add('JOIN_NS', 'exec');
  // The pid (and time) namespace applies to children: the process is a child of this helper.
  plan.add('FORK', 'exec');
  // Its own session and process group, inside the container's pid namespace (runc: getpgrp() != 0).
  plan.add('SETSID', 'exec');
  // A container in the runtime's mount namespace lives in a chroot: enter the init's root.
  if (!joins.some((ns) => ns.type === 'mount')) plan.add('CHROOT_TO', 'exec', s(`/proc/${opts.initPid}/root`));
  plan.add('ENTER_ROOT', 'exec');
  plan.add('CHECK_PIN', 'exec');
  addHomeStep(plan, proc);
  addPersonalityStep(plan, opts.personality);
  if (proc.terminal && opts.consoleSocketFd !== undefined) addConsoleStep(plan, proc, opts.consoleSocketFd, false);
  plan.add('CLOSE_PRIVATE', 'exec');
  addProcessSteps(plan, proc, seccomp, {
    id: opts.id,
    preserveFds: opts.preserveFds,
    seccompListenerFd: opts.seccompListenerFd,
    noNewKeyring: true,
    waitForStart: false,
    setgroupsDenied: setgroupsDenied(opts.initPid),
    inUserns: joins.some((ns) => ns.type === 'user'),
    warn: opts.warn,
  });
  return plan;
}
