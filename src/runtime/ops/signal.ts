import fs from 'node:fs';
import { ConfigError, RuntimeError } from '../errors';
import { native } from '../native';
import type { ContainerRecord } from '../state/record';
import { initGone, processStartTime } from '../state/status';
import { StateStore } from '../state/store';

// `kill` without --all, the call engines make for every container, in a bundle of its own
// (dist/lib/signal.cjs): no cgroup code. kill.ts adds --all.

/** The same on every Linux architecture. */
const SIGTERM = 15;

// The names engines and users pass, without node:os: numbers of the generic Linux table (x86, arm,
// riscv, powerpc, s390; mips, sparc and alpha differ and use node:os's).
const GENERIC_SIGNALS = ['x64', 'arm64', 'arm', 'ia32', 'riscv64', 'ppc64', 's390x', 'loong64'].includes(process.arch);
const COMMON_SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGCONT: 18, SIGSTOP: 19, SIGWINCH: 28 };

/** Parses a signal given as a name (KILL, SIGKILL) or a number. */
export function parseSignal(signal: string | number | undefined): number {
  if (signal === undefined || signal === '') return SIGTERM;
  if (typeof signal === 'number' || /^\d+$/.test(signal)) {
    const n = Number(signal);
    if (n < 1 || n > 64) throw new ConfigError('signal', `invalid signal ${signal}`);
    return n;
  }
  const name = signal.toUpperCase();
  const full = name.startsWith('SIG') ? name : `SIG${name}`;
  if (GENERIC_SIGNALS && full in COMMON_SIGNALS) return COMMON_SIGNALS[full]!;
  // Other names need node:os's table: loaded only then (~0.4 ms).
  const { constants } = process.getBuiltinModule('node:os');
  const n = constants.signals[full as keyof typeof constants.signals];
  if (n === undefined) throw new ConfigError('signal', `unknown signal "${signal}"`);
  return n;
}

/**
 * The record of a container whose init still runs. Only stopped matters (a paused container is
 * signalled too): no cgroup.events read.
 */
export function runningRecord(root: string, id: string): ContainerRecord {
  const record = new StateStore(root).read(id);
  if (initGone(record)) throw new RuntimeError('container not running');
  return record;
}

/** `kill` of the init alone. */
export function killInit(root: string, id: string, signal: string | number | undefined): void {
  const sig = parseSignal(signal);
  signalInit(runningRecord(root, id), sig);
}

/** Signals the init through a pidfd, after checking it is still our init (pid reuse). */
export function signalInit(record: ContainerRecord, sig: number): boolean {
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(record.pid);
  } catch {
    return false;
  }
  try {
    if (processStartTime(record.pid) !== record.pidStartTime) return false;
    return native().pidfdSendSignal(pidfd, sig);
  } finally {
    fs.closeSync(pidfd);
  }
}
