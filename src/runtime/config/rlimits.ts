import { ConfigError } from '../errors';

/** RLIMIT_* resource numbers (asm-generic/resource.h; the same on x86_64 and arm64). */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** The resource number of an RLIMIT_* name; ConfigError at `where` (default process.rlimits) if unknown. */
export function rlimitNumber(type: string, where = 'process.rlimits'): number {
  if (!Object.hasOwn(RLIMITS, type)) throw new ConfigError(where, `unknown rlimit type "${type}"`);
  return RLIMITS[type]!;
}
