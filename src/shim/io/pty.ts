// Copies between a pty master and containerd's fifos on Node's loop: the master is read when poll says
// it is readable (never a blocking read), the output fifo is written through a stream with backpressure.
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { native } from '../../runtime/native';
import type { StdioTarget } from './uri';

const C = fs.constants;

export class PtyCopy {
  private out?: net.Socket | fs.WriteStream;
  private input?: net.Socket;
  private keep = -1;
  private closing = false;
  private readonly done: Promise<void>;

  constructor(
    private master: number,
    stdin: StdioTarget,
    stdout: StdioTarget,
  ) {
    if (stdout.kind === 'path') {
      // Our own reader keeps the fifo usable while containerd is away; the writer opens at once then.
      this.keep = fs.openSync(stdout.path, C.O_RDONLY | C.O_NONBLOCK);
      this.out = new net.Socket({ fd: fs.openSync(stdout.path, C.O_WRONLY | C.O_NONBLOCK), readable: false, writable: true });
      this.out.on('error', () => undefined);
    } else if (stdout.kind === 'file') {
      this.out = fs.createWriteStream('', { fd: fs.openSync(stdout.path, C.O_WRONLY | C.O_APPEND | C.O_CREAT, 0o644) });
      this.out.on('error', () => undefined);
    }
    if (stdin.kind === 'path') {
      // Read-write: we are a writer too, so a client that leaves (`ctr run -d -t` exiting) is no EOF, and
      // the next one (`ctr task attach`) is read; a terminal's end of input is ^D, and CloseIO ends ours.
      this.input = new net.Socket({ fd: fs.openSync(stdin.path, C.O_RDWR | C.O_NONBLOCK), readable: true, writable: false });
      this.input.on('data', (d: Buffer) => this.toMaster(d));
      this.input.on('error', () => undefined);
    }
    this.done = this.pump();
  }

  private toMaster(data: Buffer): void {
    if (this.master < 0) return;
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(this.master, data, off);
    } catch {
      // the terminal is gone
    }
  }

  /** Master -> output until the last slave fd closes (EIO), so nothing written before the exit is lost. */
  private async pump(): Promise<void> {
    const buf = Buffer.allocUnsafe(64 * 1024);
    try {
      for (;;) {
        await native().waitReadable(this.master);
        let n: number;
        try {
          n = fs.readSync(this.master, buf, 0, buf.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
          return; // EIO: every process holding the terminal has gone
        }
        if (n === 0) return;
        if (this.out && !this.out.write(Buffer.from(buf.subarray(0, n)))) await once(this.out, 'drain');
      }
    } catch {
      // poll failed: the master is unusable
    } finally {
      // Closed here only, never under a pending poll.
      fs.closeSync(this.master);
      this.master = -1;
      this.out?.end();
      if (this.closing) this.release();
    }
  }

  resize(height: number, width: number): void {
    if (this.master >= 0) native().setWinsize(this.master, height, width);
  }

  closeStdin(): void {
    this.input?.destroy();
    this.input = undefined;
  }

  /** Waits (at most `ms`) until the output has ended. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Stops the copy; the master goes as soon as its last reader has (the processes are being killed). */
  close(): void {
    this.closing = true;
    this.closeStdin();
    if (this.master < 0) this.release();
  }

  private release(): void {
    this.out?.destroy();
    if (this.keep >= 0) fs.closeSync(this.keep);
    this.keep = -1;
  }
}
