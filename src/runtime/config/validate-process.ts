import { ConfigError } from '../errors';
import {
  checkAbsolutePath, checkArray, checkBoolean, checkId, checkInt, checkObject, checkString, checkStringArray,
} from './check';
import { RLIMITS } from './rlimits';

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

export function validateProcess(p: unknown, requireArgs: boolean): void {
  checkObject(p, 'process');
  if (p.args !== undefined) checkStringArray(p.args, 'process.args');
  if (requireArgs && (!Array.isArray(p.args) || p.args.length === 0))
    throw new ConfigError('process.args', 'must have at least one element');
  if (Array.isArray(p.args) && p.args.length > 0 && p.args[0] === '')
    throw new ConfigError('process.args[0]', 'must not be empty');
  checkAbsolutePath(p.cwd, 'process.cwd');
  if (p.terminal !== undefined) checkBoolean(p.terminal, 'process.terminal');
  if (p.consoleSize !== undefined) {
    checkObject(p.consoleSize, 'process.consoleSize');
    checkInt(p.consoleSize.height, 'process.consoleSize.height', 0, 0xffff);
    checkInt(p.consoleSize.width, 'process.consoleSize.width', 0, 0xffff);
  }
  if (p.env !== undefined) {
    checkArray(p.env, 'process.env');
    p.env.forEach((e, i) => {
      checkString(e, `process.env[${i}]`);
      if (e.indexOf('=') < 1) throw new ConfigError(`process.env[${i}]`, `"${e}" is not of the form KEY=VALUE`);
    });
  }
  validateUser(p.user);
  validateCapabilities(p.capabilities);
  validateRlimits(p.rlimits);
  if (p.noNewPrivileges !== undefined) checkBoolean(p.noNewPrivileges, 'process.noNewPrivileges');
  if (p.oomScoreAdj !== undefined) checkInt(p.oomScoreAdj, 'process.oomScoreAdj', -1000, 1000);
  if (p.ioPriority !== undefined) {
    checkObject(p.ioPriority, 'process.ioPriority');
    if (!['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'].includes(p.ioPriority.class as string))
      throw new ConfigError('process.ioPriority.class', `unknown class ${JSON.stringify(p.ioPriority.class)}`);
    // The idle class has no levels: a missing priority there means 0 (the plan warns), as other runtimes take it.
    if (p.ioPriority.priority !== undefined || p.ioPriority.class !== 'IOPRIO_CLASS_IDLE')
      checkInt(p.ioPriority.priority, 'process.ioPriority.priority', 0, 7);
  }
  if (p.scheduler !== undefined) {
    checkObject(p.scheduler, 'process.scheduler');
    if (!SCHED_POLICIES.includes(p.scheduler.policy as string))
      throw new ConfigError('process.scheduler.policy', `unknown policy ${JSON.stringify(p.scheduler.policy)}`);
    if (p.scheduler.nice !== undefined) checkInt(p.scheduler.nice, 'process.scheduler.nice', -20, 19);
  }
}

const SCHED_POLICIES = [
  'SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE',
];

function validateUser(u: unknown): void {
  checkObject(u, 'process.user');
  checkId(u.uid, 'process.user.uid');
  checkId(u.gid, 'process.user.gid');
  if (u.umask !== undefined) checkInt(u.umask, 'process.user.umask', 0, 0o777);
  if (u.additionalGids !== undefined) {
    checkArray(u.additionalGids, 'process.user.additionalGids');
    u.additionalGids.forEach((g, i) => checkId(g, `process.user.additionalGids[${i}]`));
  }
}

function validateCapabilities(c: unknown): void {
  if (c === undefined) return;
  checkObject(c, 'process.capabilities');
  for (const set of CAP_SETS) {
    const names = c[set];
    if (names === undefined) continue;
    const where = `process.capabilities.${set}`;
    // Unknown names are not an error (config.md): the plan leaves them out with a warning.
    checkStringArray(names, where);
  }
}

// RLIM_INFINITY is 2^64-1, which JSON numbers carry only approximately; any value >= 2^53 means it.
const RLIM_MAX = 2 ** 64;

function validateRlimits(v: unknown): void {
  if (v === undefined) return;
  checkArray(v, 'process.rlimits');
  const seen = new Set<string>();
  v.forEach((r, i) => {
    const at = `process.rlimits[${i}]`;
    checkObject(r, at);
    checkString(r.type, `${at}.type`);
    if (!Object.hasOwn(RLIMITS, r.type)) throw new ConfigError(`${at}.type`, `unknown rlimit type "${r.type}"`);
    if (seen.has(r.type)) throw new ConfigError(`${at}.type`, `duplicate rlimit "${r.type}"`);
    seen.add(r.type);
    checkInt(r.soft, `${at}.soft`, 0, RLIM_MAX);
    checkInt(r.hard, `${at}.hard`, 0, RLIM_MAX);
    if (r.soft > r.hard) throw new ConfigError(`${at}.soft`, `soft limit ${r.soft} exceeds hard limit ${r.hard}`);
  });
}
