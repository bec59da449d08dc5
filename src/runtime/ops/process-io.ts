import fs from 'node:fs';
import { native } from '../native';
import { parseSignal } from './signal';

/** Our own stdio go to the container; a closed one is replaced by /dev/null. */
export function stdioFds(): number[] {
  return [0, 1, 2].map((fd) => {
    try {
      fs.fstatSync(fd);
      return fd;
    } catch {
      return fs.openSync('/dev/null', fd === 0 ? 'r' : 'w');
    }
  });
}

/** The temporary writePidFile renames into place. */
export function pidFileTemp(file: string): string {
  return `${file}.tmp-${process.pid}`;
}

/** Written atomically: engines read the file as soon as it appears. */
export function writePidFile(file: string, pid: number): void {
  const tmp = pidFileTemp(file);
  fs.writeFileSync(tmp, String(pid));
  fs.renameSync(tmp, file);
}

/** Waits for our child behind `pidfd`; a shell's status: the exit code, or 128+N for signal N. */
export async function waitExitStatus(pidfd: number): Promise<number> {
  for (;;) {
    const status = native().reapPidfd(pidfd);
    if (status) return status.signal !== null ? 128 + status.signal : (status.code ?? 0);
    await native().waitReadable(pidfd);
  }
}

/** Signals a foreground `run` or `exec` passes on to the container process, as runc does. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Catches FORWARDED signals from now on and holds them until `to` names where they go: a foreground `run`
 * installs it before the container exists, so a signal that comes while it is created or started does not
 * end tsrunc and reaches the process once it runs (runc, too, installs its handler before the container runs).
 */
export function queueSignals(): { to(send: (signo: number) => void): void; stop(): void } {
  const pending: number[] = [];
  let target: ((signo: number) => void) | undefined;
  const stop = forwardSignals((signo) => (target ? target(signo) : pending.push(signo)));
  return {
    to(send) {
      target = send;
      for (const signo of pending.splice(0)) send(signo);
    },
    stop,
  };
}

/** Passes FORWARDED signals to `send` until the returned function is called. */
export function forwardSignals(send: (signo: number) => void): () => void {
  // numbers from signal.ts's table: node:os's constants cost a foreground exec ~0.4 ms to load
  const forward = (sig: NodeJS.Signals) => send(parseSignal(sig));
  for (const sig of FORWARDED) process.on(sig, forward);
  return () => {
    for (const sig of FORWARDED) process.off(sig, forward);
  };
}
