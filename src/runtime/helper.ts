import fs from 'node:fs';
import { RuntimeError } from './errors';
import { initHelperPath, native } from './native';
import { Msg } from './plan/ops';

export interface HelperMessage {
  tag: string;
  payload: string;
}

/**
 * One tsrunc-init process tree, seen from the runtime: the sync socket and the first process.
 * The first process forks the container init and exits; the init talks on the same socket.
 */
export class HelperSession {
  private closed = false;

  private constructor(
    readonly pid: number,
    private readonly pidfd: number,
    private readonly sock: number,
  ) {}

  /** Starts tsrunc-init with `fds[i]` as its fd i, inside the cgroup `cgroupFd` (-1: ours). */
  static spawn(fds: number[], cgroupFd: number): HelperSession {
    const { pid, pidfd, sock } = native().spawnHelper(initHelperPath(), fds, cgroupFd);
    return new HelperSession(pid, pidfd, sock);
  }

  send(tag: string, payload = ''): void {
    // one string, encoded by the addon (Buffer.concat and Buffer.from cost a cold create ~0.2 ms)
    this.sending(() => native().sendMsg(this.sock, tag + payload));
  }

  sendPlan(plan: Uint8Array): void {
    this.sending(() => native().sendPlan(this.sock, plan));
  }

  /** A helper that died has said why before it went: that error, not EPIPE, is the one to report. */
  private sending(send: () => void): void {
    try {
      send();
    } catch (err) {
      for (let msg = native().recvMsg(this.sock); msg && msg.data.length; msg = native().recvMsg(this.sock)) {
        const text = msg.data.toString('utf8');
        if (text[0] === Msg.ERROR) throw new RuntimeError(text.slice(1));
      }
      throw err;
    }
  }

  /** The next message, or null when every helper process has closed the socket. */
  async next(): Promise<HelperMessage | null> {
    for (;;) {
      const msg = native().recvMsg(this.sock);
      if (msg) {
        for (const fd of msg.fds) fs.closeSync(fd);
        if (msg.data.length === 0) return null;
        const text = msg.data.toString('utf8');
        if (text[0] === Msg.ERROR) throw new RuntimeError(text.slice(1));
        return { tag: text[0]!, payload: text.slice(1) };
      }
      await native().waitReadable(this.sock);
    }
  }

  /**
   * Resolves once every helper process has closed the socket (exec'd or exited), without waking for the
   * messages queued before that: a caller that needs no answer mid-way reads them all afterwards.
   */
  async hangup(): Promise<void> {
    await native().waitReadable(this.sock, true);
  }

  /** Waits for the first helper process to exit (it must, after OP_FORK) and reaps it. */
  async reapFirst(): Promise<{ code: number | null; signal: number | null }> {
    for (;;) {
      const status = native().reapPidfd(this.pidfd);
      if (status) return status;
      await native().waitReadable(this.pidfd);
    }
  }

  /** Ends the first helper process (it may be waiting for an answer that will never come) and reaps it. */
  async abort(): Promise<void> {
    native().pidfdSendSignal(this.pidfd, 9);
    await this.reapFirst();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.sock);
    fs.closeSync(this.pidfd);
  }
}
