import fs from 'node:fs';
import path from 'node:path';
import type { Spec, Mount, LinuxDevice, LinuxSeccomp, LinuxPersonality, Process, Hook } from '../config/types';
import { parseMountOptions } from '../config/mount-options';
import { namespaceFlag } from '../config/namespaces';
import { capabilityMasks, grantableCapabilities } from '../config/capabilities';
import { rlimitNumber } from '../config/rlimits';
import { compileSeccompCached } from '../seccomp';
import { addLsmSteps, hostLsm, mountLabel, withMountLabel, type LsmHost } from '../lsm';
import { ConfigError } from '../errors';
import { MountFlag } from './ops';
import { cgroup2Mount } from '../cgroups/mountinfo';
import { normalizeDevicePath } from '../config/validate-linux';
import { Plan, s, u64, u64v, strv, blob, type Field } from './encode';

const MS_REC = 0x4000;
const MS_SLAVE = 1 << 19;
const MS_PRIVATE = 1 << 18;
const MS_SHARED = 1 << 20;
const MS_UNBINDABLE = 1 << 17;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWTIME = 0x00000080;
const CLONE_NEWNET = 0x40000000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** What the runtime knows beyond config.json when it builds a plan. */
export interface PlanOptions {
  id: string;
  rootfs: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** Fds 3..3+preserveFds-1 go through to the container. */
  preserveFds: number;
  /** Fd numbers, as the helper will see them, of what the runtime hands over. */
  stateDirFd: number;
  seccompListenerFd?: number;
  /** The console socket, when process.terminal is set. */
  consoleSocketFd?: number;
  /** setgroups(2) is denied in the container's user namespace (an unprivileged runtime). */
  setgroupsDenied?: boolean;
  /** Told what the plan leaves out of the config (e.g. capabilities that cannot be granted). */
  warn?: (message: string) => void;
  /** Which LSMs the host runs (default: read from the host). */
  lsm?: LsmHost;
}

/** The devices every container gets (runtime-spec "Default Devices"). */
export const DEFAULT_DEVICES: ReadonlyArray<{ path: string; major: number; minor: number }> = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const DEV_SYMLINKS: ReadonlyArray<[string, string]> = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

const PROPAGATION: Record<string, number> = {
  shared: MS_SHARED,
  slave: MS_SLAVE,
  private: MS_PRIVATE,
  unbindable: MS_UNBINDABLE,
  rshared: MS_SHARED | MS_REC,
  rslave: MS_SLAVE | MS_REC,
  rprivate: MS_PRIVATE | MS_REC,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/** Turns a validated config into the steps tsrunc-init runs to create the container. */
export function buildCreatePlan(spec: Spec, opts: PlanOptions): Plan {
  const plan = new Plan();
  const namespaces = spec.linux?.namespaces ?? [];
  const userns = namespaces.find((n) => n.type === 'user');
  // Without a mount namespace entry the container shares the runtime's (runtime-spec: an unlisted type is
  // inherited): its mounts are made under root.path there and undone by delete (ops/host-mounts.ts).
  const sharedMountNs = !namespaces.some((n) => n.type === 'mount');
  if (sharedMountNs) refuseWithoutMountNamespace(spec);

  const lsm = opts.lsm ?? hostLsm();
  const label = mountLabel(spec.linux?.mountLabel, lsm);
  const mounts = (spec.mounts ?? []).map((m, i) => mountStep(m, `mounts[${i}]`, spec, label));
  // Bound while we are still the host's root: the state directory is not the container's to write.
  plan.add('LISTEN_START', 'state', u64(opts.stateDirFd), s('start.sock'));
  addOomStep(plan, spec.process!);
  // Id-mapped trees need the runtime's user namespace (see op_prepare_mount): before any is joined.
  for (const m of mounts) if (m.idmapped) plan.add('PREPARE_MOUNT', m.where, ...m.fields);
  addNamespaceSteps(plan, spec, opts.setgroupsDenied);
  plan.add('SETSID', 'process');
  addRootfsSteps(plan, spec, opts, userns !== undefined, sharedMountNs, mounts, lsm);
  addPersonalityStep(plan, spec.linux?.personality);
  addProcessSteps(plan, spec.process!, spec.linux?.seccomp, { ...opts, lsm, waitForStart: true, startContainer: spec.hooks?.startContainer, inUserns: userns !== undefined });
  return plan;
}

function addNamespaceSteps(plan: Plan, spec: Spec, setgroupsDenied = false): void {
  const namespaces = spec.linux?.namespaces ?? [];
  // Join the user namespace first: it owns whatever is joined or created after it.
  const ordered = namespaces.map((ns, i) => ({ ns, i })).sort((a, b) => Number(b.ns.type === 'user') - Number(a.ns.type === 'user'));
  // Every fd is opened before the first join: after the user namespace is joined a process that is
  // not dumpable for it (a created init) no longer lets us open its /proc/<pid>/ns files.
  for (const { ns, i } of ordered)
    if (ns.path) plan.add('SETNS', `linux.namespaces[${i}].path`, s(ns.path), u64(namespaceFlag(ns.type)));
  if (ordered.some(({ ns }) => ns.path)) plan.add('JOIN_NS', 'linux.namespaces');

  let flags = 0;
  for (const ns of namespaces) if (!ns.path) flags |= namespaceFlag(ns.type);
  if (flags & CLONE_NEWUSER) {
    plan.add('UNSHARE', 'linux.namespaces', u64(CLONE_NEWUSER));
    plan.add('USERNS_MAPS', 'linux.uidMappings');
    // Our ids are the host's, unmapped in the new namespace (files could not be created): become its root.
    if (mapsRoot(spec.linux?.uidMappings) && mapsRoot(spec.linux?.gidMappings)) {
      if (!setgroupsDenied) plan.add('SETGROUPS', 'linux.gidMappings', u64v([]));
      plan.add('SETGID', 'linux.gidMappings', u64(0));
      plan.add('SETUID', 'linux.uidMappings', u64(0));
    }
    flags &= ~CLONE_NEWUSER;
  }
  if (flags) plan.add('UNSHARE', 'linux.namespaces', u64(flags));
  // A new network namespace has only lo, down: bring it up as runc and crun do.
  if (flags & CLONE_NEWNET) plan.add('LOOPBACK_UP', 'linux.namespaces');
  const offsets = spec.linux?.timeOffsets;
  if (flags & CLONE_NEWTIME && offsets) {
    const lines = Object.entries(offsets).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}`);
    plan.add('TIMENS_OFFSETS', 'linux.timeOffsets', s(lines.join('\n') + '\n'));
  }
  // A new pid or time namespace applies to children only: the init is a child of this helper.
  void CLONE_NEWPID;
  plan.add('FORK', 'linux.namespaces');
}

function mapsRoot(maps: Array<{ containerID: number; size: number }> | undefined): boolean {
  return (maps ?? []).some((m) => m.containerID === 0 && m.size > 0);
}

function addRootfsSteps(plan: Plan, spec: Spec, opts: PlanOptions, inUserns: boolean, sharedMountNs: boolean, steps: MountStep[], lsm: LsmHost): void {
  void CLONE_NEWNS;
  // Nothing we mount may propagate back to the host. In the runtime's own mount namespace that is not
  // ours to change (runc makes the host's / rslave there; we leave it alone).
  if (!sharedMountNs) plan.add('PROPAGATION', 'linux.rootfsPropagation', s('/'), u64(MS_SLAVE | MS_REC));
  plan.add('ROOTFS', 'root.path', s(opts.rootfs));

  const mounts = spec.mounts ?? [];
  for (const m of steps) {
    const fields = [...m.fields];
    if (m.idmapped) fields[MFLAGS_FIELD] = u64(m.mflags | MountFlag.PREPARED);
    plan.add('MOUNT', m.where, ...fields);
  }

  // runc's rule: a /dev bound from the host already has its devices.
  const devBound = mounts.some((m) => path.normalize(m.destination) === '/dev' && isBind(m));
  if (!devBound) {
    // Device paths may be anywhere in the container and end in a slash (config-linux.md).
    const userDevices = (spec.linux?.devices ?? []).map((d) => ({ ...d, path: normalizeDevicePath(d.path) }));
    const defaults = DEFAULT_DEVICES.filter((d) => !userDevices.some((u) => u.path === d.path));
    for (const d of defaults) addDevice(plan, { path: d.path, type: 'c', major: d.major, minor: d.minor, fileMode: 0o666, uid: 0, gid: 0 }, 'linux.devices (default)', inUserns);
    userDevices.forEach((d, i) => addDevice(plan, d, `linux.devices[${i}]`, inUserns));
    for (const [target, link] of DEV_SYMLINKS) plan.add('SYMLINK', 'linux.devices (default)', s(target), s(link));
    if (mounts.some((m) => path.normalize(m.destination) === '/dev/pts'))
      plan.add('SYMLINK', 'linux.devices (default)', s('pts/ptmx'), s('/dev/ptmx'));
  }

  if (spec.hostname !== undefined) plan.add('HOSTNAME', 'hostname', s(spec.hostname));
  if (spec.domainname !== undefined) plan.add('DOMAINNAME', 'domainname', s(spec.domainname));
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {}))
    plan.add('SYSCTL', `linux.sysctl.${key}`, s(key.replaceAll('.', '/')), s(value));

  addCreateHookSteps(plan, spec);
  // pivot_root and the MS_MOVE of --no-pivot would act on the runtime's own root: a plain chroot there.
  if (sharedMountNs) plan.add('CHROOT_TO', 'root.path', s(''));
  else plan.add(opts.noPivot ? 'CHROOT' : 'PIVOT_ROOT', 'root.path');
  if (spec.process?.terminal && opts.consoleSocketFd !== undefined) addConsoleStep(plan, spec.process, opts.consoleSocketFd, true);
  (spec.linux?.maskedPaths ?? []).forEach((p, i) => plan.add('MASK_PATH', `linux.maskedPaths[${i}]`, s(p)));
  (spec.linux?.readonlyPaths ?? []).forEach((p, i) => plan.add('READONLY_PATH', `linux.readonlyPaths[${i}]`, s(p)));
  // The working directory is made (when missing) while the root can still be written.
  const cwd = spec.process?.cwd;
  if (cwd && cwd !== '/') plan.add('MKDIR', 'process.cwd', s(cwd), u64(0o755));
  if (spec.root?.readonly) plan.add('REMOUNT_ROOT_RO', 'root.readonly');
  const rootProp = spec.linux?.rootfsPropagation;
  if (rootProp) plan.add('PROPAGATION', 'linux.rootfsPropagation', s('/'), u64(PROPAGATION[rootProp]!));
  // Both still need the rootfs fd or the trusted procfs: HOME from the container's passwd, and the LSM
  // attributes (applied by the kernel at the final execve, so none of our own setup runs confined).
  addHomeStep(plan, spec.process!);
  addLsmSteps(plan, spec.process!, lsm);
  // The rootfs and private procfs fds end here: nothing the container can see may keep a way out.
  plan.add('CLOSE_PRIVATE', 'root.path');
}

/** oom_score_adj in stage 1, through the runtime's /proc (lowering it needs the host's CAP_SYS_RESOURCE). */
export function addOomStep(plan: Plan, proc: Process): void {
  if (proc.oomScoreAdj !== undefined) plan.add('OOM_SCORE_ADJ', 'process.oomScoreAdj', u64(proc.oomScoreAdj));
}

/** A pty from the container's devpts becomes the process's stdio; its master goes to the console socket. */
export function addConsoleStep(plan: Plan, proc: Process, socketFd: number, isInit: boolean): void {
  const size = proc.consoleSize ?? { height: 0, width: 0 };
  plan.add('CONSOLE', 'process.terminal', u64(socketFd), u64(size.height), u64(size.width), u64(isInit ? 1 : 0));
}

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** One mount's OP_MOUNT fields; an id-mapped one is built in stage 1 (OP_PREPARE_MOUNT) and attached later. */
interface MountStep {
  where: string;
  fields: Field[];
  mflags: number;
  idmapped: boolean;
}

/** Index of mflags among OP_MOUNT's fields. */
const MFLAGS_FIELD = 8;

function namespaces(spec: Spec) {
  return spec.linux?.namespaces ?? [];
}

/** What cannot be honoured in the runtime's mount namespace: a clear error naming the field. */
function refuseWithoutMountNamespace(spec: Spec): void {
  const why = 'needs a private mount namespace (linux.namespaces has no "mount" entry)';
  if (spec.linux?.maskedPaths?.length) throw new ConfigError('linux.maskedPaths', why);
  if (spec.linux?.readonlyPaths?.length) throw new ConfigError('linux.readonlyPaths', why);
  if (spec.linux?.rootfsPropagation) throw new ConfigError('linux.rootfsPropagation', why);
}

/** HOME from the container's /etc/passwd (then "/") when process.env has none, as runc does. */
export function addHomeStep(plan: Plan, proc: Process): void {
  if ((proc.env ?? []).some((e) => e.startsWith('HOME='))) return;
  plan.add('HOME', 'process.user.uid', u64(proc.user?.uid ?? 0));
}

function mountStep(m: Mount, where: string, spec: Spec, label: string | undefined): MountStep {
  const o = parseMountOptions(m.options ?? [], where, m.type);
  const bind = isBind(m);
  let fstype = m.type ?? '';
  let mflags = 0;
  if (bind) {
    mflags |= MountFlag.BIND;
    // A file bound onto a file needs a file as its mount point.
    if (m.source && isFile(m.source)) mflags |= MountFlag.FILE;
  }
  // On a cgroup v2 host a "cgroup" mount is the unified hierarchy, as runc does.
  let fallback = '';
  if (fstype === 'cgroup' || fstype === 'cgroup2') {
    fstype = 'cgroup2';
    mflags |= MountFlag.CGROUP2;
    // A user namespace without a cgroup namespace may not mount cgroup2 (EPERM/EBUSY): like runc, bind the
    // runtime's cgroup2 hierarchy instead (the whole of it: there is no cgroup namespace to narrow it).
    fallback = cgroup2Root();
  }
  if (o.recursive) mflags |= MountFlag.RECURSIVE;
  const flags = o.flags | (o.rbind ? MS_REC : 0);
  // An id-mapped mount: its own uid/gid maps, through a user namespace that tsrunc-init makes for it.
  // idmap/ridmap without mappings of the mount's own: the container's user namespace mappings (config.md).
  const own = m.uidMappings !== undefined || m.gidMappings !== undefined;
  if (o.idmap && !bind) throw new ConfigError(`${where}.options`, 'idmap/ridmap is only supported for bind mounts');
  if (o.idmap && !own && !namespaces(spec).some((n) => n.type === 'user' && !n.path))
    throw new ConfigError(`${where}.options`, 'idmap/ridmap without uidMappings/gidMappings needs a new user namespace for the container');
  const uidMap = idMapLines(own ? m.uidMappings : o.idmap ? spec.linux?.uidMappings : undefined);
  const gidMap = idMapLines(own ? m.gidMappings : o.idmap ? spec.linux?.gidMappings : undefined);
  if ((uidMap || gidMap) && (o.idmapRecursive || (o.rbind && !o.idmap))) mflags |= MountFlag.IDMAP_RECURSIVE;
  const fields: Field[] = [
    s(bind ? path.resolve(m.source ?? '') : (m.source ?? fstype)),
    s(m.destination),
    s(fstype),
    u64(flags),
    s(withMountLabel(o.data, fstype, bind, label)),
    u64(o.propagation),
    u64(o.attrSet),
    u64(o.attrClr),
    u64(mflags),
    s(uidMap),
    s(gidMap),
    s(fallback),
  ];
  return { where, fields, mflags, idmapped: bind && (uidMap !== '' || gidMap !== '') };
}

/** The runtime's visible cgroup2 mount point ("" when there is none: the mount error stands then). */
function cgroup2Root(): string {
  try {
    return cgroup2Mount().mountPoint;
  } catch {
    return '';
  }
}

function idMapLines(maps: Array<{ containerID: number; hostID: number; size: number }> | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function isFile(p: string): boolean {
  try {
    return !fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function addDevice(plan: Plan, d: LinuxDevice, where: string, inUserns: boolean): void {
  // In a user namespace mknod is not allowed: bind the host's node instead.
  if (inUserns) {
    plan.add('BIND_DEVICE', where, s(d.path), s(d.path));
    return;
  }
  const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
  const perm = d.fileMode ?? 0o666;
  plan.add('MKNOD', where, s(d.path), u64(type | (perm & 0o7777)), u64(d.major ?? 0), u64(d.minor ?? 0), u64(d.uid ?? 0), u64(d.gid ?? 0));
}

/** What the process steps need besides the process itself. */
export interface ProcessStepOptions {
  id: string;
  preserveFds: number;
  noNewKeyring?: boolean;
  seccompListenerFd?: number;
  /** create: report READY and wait for start before the user's program; exec: run it now. */
  waitForStart: boolean;
  /** create: hooks.startContainer, run after start released the init. */
  startContainer?: Hook[];
  setgroupsDenied?: boolean;
  /** The process runs in a user namespace (it can have every capability there). */
  inUserns?: boolean;
  /** Told what the plan leaves out of the config (e.g. capabilities that cannot be granted). */
  warn?: (message: string) => void;
  lsm?: LsmHost;
}

/** From cwd to execve: identity, limits, capabilities, seccomp, and the user's program. */
export function addProcessSteps(plan: Plan, proc: Process, seccomp: LinuxSeccomp | undefined, opts: ProcessStepOptions): void {
  plan.add('CHDIR', 'process.cwd', s(proc.cwd || '/'));
  const env = proc.env ?? [];
  const pathVar = env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  plan.add('FIND_EXEC', 'process.args[0]', s(proc.args![0]!), s(pathVar));

  (proc.rlimits ?? []).forEach((r, i) => plan.add('RLIMIT', `process.rlimits[${i}]`, u64(rlimitNumber(r.type)), u64(r.soft), u64(r.hard)));
  if (!opts.noNewKeyring) plan.add('SESSION_KEYRING', 'process', s(`_ses.${opts.id}`.slice(0, 200)));

  const user = proc.user ?? { uid: 0, gid: 0 };
  if (user.umask !== undefined) plan.add('UMASK', 'process.user.umask', u64(user.umask));
  // While still privileged: real-time classes need CAP_SYS_NICE / CAP_SYS_ADMIN.
  addSchedulerStep(plan, proc);
  addIoPriorityStep(plan, proc, opts.warn);
  // The spec applies execCPUAffinity to exec'd processes only, never to the container's init.
  if (!opts.waitForStart) addCpuAffinityStep(plan, proc);

  const compiled = seccomp ? compileSeccompCached(seccomp, 'linux.seccomp') : undefined;
  const seccompStep = (deferred: boolean) =>
    plan.add('SECCOMP', 'linux.seccomp', u64(compiled!.flags), blob(compiled!.filter), u64(compiled!.usesNotify ? (opts.seccompListenerFd ?? -1) : -1), u64(deferred ? 1 : 0));
  // Without no_new_privs only a privileged process may load a filter: then the capabilities are dropped
  // last, by OP_CAPS right after it loads the filter (the only calls between the filter and execve).
  const capsLast = compiled !== undefined && !proc.noNewPrivileges;
  const gids = user.additionalGids ?? [];
  if (opts.setgroupsDenied && gids.length)
    throw new ConfigError('process.user.additionalGids', 'needs setgroups(2), which an unprivileged user namespace denies');
  if (!opts.setgroupsDenied) plan.add('SETGROUPS', 'process.user.additionalGids', u64v(gids));
  plan.add('SETGID', 'process.user.gid', u64(user.gid));
  plan.add('SETUID', 'process.user.uid', u64(user.uid));
  const caps = capabilityMasks(proc.capabilities, grantableCapabilities(!!opts.inUserns), opts.warn);
  const capsStep = () =>
    plan.add('CAPS', 'process.capabilities', u64(caps.bounding), u64(caps.effective), u64(caps.permitted), u64(caps.inheritable), u64(caps.ambient));
  if (!capsLast) capsStep();

  if (opts.waitForStart) {
    plan.add('READY', 'create');
    plan.add('WAIT_START', 'start');
    addHookSteps(plan, opts.startContainer, 'startContainer');
  }
  // Everything that is not a privilege drop happens before the filter: after it, only execve.
  plan.add('CLOEXEC_FROM', 'process', u64(3 + opts.preserveFds));
  if (proc.noNewPrivileges) plan.add('NO_NEW_PRIVS', 'process.noNewPrivileges');
  if (compiled) seccompStep(capsLast);
  if (capsLast) capsStep();
  plan.add('EXEC', 'process.args', strv(proc.args!), strv(env));
}

const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04, SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20, SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

function addSchedulerStep(plan: Plan, proc: Process): void {
  const sch = proc.scheduler;
  if (!sch) return;
  const policy = SCHED_POLICY[sch.policy];
  if (policy === undefined) throw new ConfigError('process.scheduler.policy', `unknown policy ${JSON.stringify(sch.policy)}`);
  let flags = 0;
  (sch.flags ?? []).forEach((f, i) => {
    const bit = SCHED_FLAG[f];
    if (bit === undefined) throw new ConfigError(`process.scheduler.flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
    flags |= bit;
  });
  plan.add('SCHEDULER', 'process.scheduler', u64(policy), u64(sch.priority ?? 0), u64(flags), u64(sch.nice ?? 0), u64(sch.runtime ?? 0), u64(sch.deadline ?? 0), u64(sch.period ?? 0));
}

const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

function addIoPriorityStep(plan: Plan, proc: Process, warn?: (message: string) => void): void {
  const io = proc.ioPriority;
  if (!io) return;
  const cls = IOPRIO_CLASS[io.class];
  if (cls === undefined) throw new ConfigError('process.ioPriority.class', `unknown class ${JSON.stringify(io.class)}`);
  if (io.priority === undefined) warn?.('process.ioPriority.priority: missing for IOPRIO_CLASS_IDLE; using 0');
  plan.add('IOPRIO', 'process.ioPriority', u64((cls << 13) | ((io.priority ?? 0) & 0x1fff)));
}

function addCpuAffinityStep(plan: Plan, proc: Process): void {
  const aff = proc.execCPUAffinity;
  // The helper starts inside the container's cgroup already, so "initial" and "final" coincide here.
  const list = aff?.final ?? aff?.initial;
  if (list === undefined) return;
  const where = aff?.final !== undefined ? 'process.execCPUAffinity.final' : 'process.execCPUAffinity.initial';
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list)) throw new ConfigError(where, `invalid CPU list ${JSON.stringify(list)}`);
  plan.add('CPU_AFFINITY', where, s(list));
}

const PERSONALITY_DOMAIN: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** linux.personality, for the init and (as runc does) exec'd processes. */
export function addPersonalityStep(plan: Plan, p: LinuxPersonality | undefined): void {
  if (!p) return;
  const domain = PERSONALITY_DOMAIN[p.domain];
  if (domain === undefined) throw new ConfigError('linux.personality.domain', `unknown personality domain ${JSON.stringify(p.domain)}`);
  plan.add('PERSONALITY', 'linux.personality', u64(domain));
}

/**
 * The runtime runs prestart and createRuntime hooks (OP_SYNC "createRuntime"); the init runs the
 * createContainer hooks while the host's paths are still visible, with the state that OP_SYNC "state" fetches.
 */
function addCreateHookSteps(plan: Plan, spec: Spec): void {
  const hooks = spec.hooks;
  if (hooks?.prestart?.length || hooks?.createRuntime?.length) plan.add('SYNC', 'hooks.createRuntime', s('createRuntime'));
  if (hooks?.createContainer?.length) {
    plan.add('SYNC', 'hooks.createContainer', s('state'));
    addHookSteps(plan, hooks.createContainer, 'createContainer');
  }
}

function addHookSteps(plan: Plan, hooks: Hook[] | undefined, kind: string): void {
  (hooks ?? []).forEach((h, i) =>
    plan.add('HOOK', `hooks.${kind}[${i}]`, s(h.path), strv(h.args?.length ? h.args : [h.path]), strv(h.env ?? runtimeEnv()), u64(h.timeout ?? 0)),
  );
}

/** Without `env` a hook inherits the runtime's environment, as runc's do (src/runtime/hooks.ts likewise). */
function runtimeEnv(): string[] {
  return Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}
