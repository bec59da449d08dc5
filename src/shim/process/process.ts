// One process the shim started (a container's init or an exec'd process): its pid, its stdio, and its
// exit, learnt from a pidfd that Node's loop polls (no polling timer, no blocking wait). The shim is a
// child subreaper, so every such process is its child once the runtime's helper has gone.
import fs from 'node:fs';
import { native } from '../../runtime/native';
import type { ProcessIO } from '../io/stdio';

export interface ExitInfo {
  /** A shell's status: the exit code, or 128+N after signal N (what containerd reports). */
  status: number;
  at: Date;
}

export type ProcessState = 'created' | 'running' | 'stopped';

export class ShimProcess {
  pid = 0;
  state: ProcessState = 'created';
  exit?: ExitInfo;
  io?: ProcessIO;
  /** The stdio strings and terminal flag containerd gave (State reports them). */
  stdio = { stdin: '', stdout: '', stderr: '', terminal: false };
  /** An exec'd process's OCI process spec. */
  spec?: unknown;
  /** Set while Start publishes TaskStart/TaskExecStarted: TaskExit waits for it. */
  starting?: Promise<void>;
  /** Resolved once the process has exited, been reaped, and its exit been reported (TaskExit). */
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (e: ExitInfo) => void;
  private pidfd = -1;

  constructor(
    /** The exec id, or '' for the init. */
    readonly execId: string,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Starts watching `pid`; `onExit` runs once it has been reaped, before `exited` resolves. */
  watch(pid: number, onExit: (p: ShimProcess) => Promise<void> | void): void {
    this.pid = pid;
    this.pidfd = native().pidfdOpen(pid);
    void this.waitExit(onExit);
  }

  private async waitExit(onExit: (p: ShimProcess) => Promise<void> | void): Promise<void> {
    let status = 255;
    try {
      for (;;) {
        const st = native().reapPidfd(this.pidfd);
        if (st) {
          status = st.signal !== null ? 128 + st.signal : (st.code ?? 0);
          break;
        }
        await native().waitReadable(this.pidfd);
      }
    } catch {
      // reaped by someone else (not our child any more): the status is lost
    }
    fs.closeSync(this.pidfd);
    this.pidfd = -1;
    const exit = { status, at: new Date() };
    this.exit = exit;
    this.state = 'stopped';
    try {
      await onExit(this);
    } finally {
      this.resolveExit(exit);
    }
  }

  /** Sends `sig` through the pidfd; false when the process has already exited. */
  signal(sig: number): boolean {
    if (this.pidfd < 0) return false;
    return native().pidfdSendSignal(this.pidfd, sig);
  }

  /** Marks a process that never ran (failed create/start) as stopped. */
  fail(status = 255): void {
    if (this.exit) return;
    this.exit = { status, at: new Date() };
    this.state = 'stopped';
    this.resolveExit(this.exit);
  }
}
