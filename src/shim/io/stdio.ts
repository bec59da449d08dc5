// The stdio of one container process, from the strings containerd sends (fifos, file://, binary://).
//
// Without a terminal the process gets the fifos themselves: no copy runs through the shim, so output
// written just before an exit is still in the fifo for containerd to read. The shim keeps a reader on
// each output fifo (a write never fails with EPIPE while containerd is away). Stdin is copied from its
// fifo into a socket the process reads, so that the process sees the end of the client's input.
// With a terminal the shim copies between the fifos and the pty master.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConfigError } from '../../runtime/errors';
import { native } from '../../runtime/native';
import { parseStdio, type StdioTarget } from './uri';
import { PtyCopy } from './pty';

const C = fs.constants;

export interface StdioRequest {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface IoContext {
  /** Container id and containerd namespace (the binary:// logger's environment). */
  id: string;
  namespace: string;
  /** Told the pid of each process started for the stdio (a binary:// logger), right after its start. */
  onProcess?: (pid: number) => void;
}

/** How long a binary:// logger may take to say it is ready (runc's shim: 10 s). */
const LOGGER_READY_MS = 10_000;

export class ProcessIO {
  /** The process's stdin, stdout and stderr. */
  readonly fds: number[] = [];
  /** Fds only the process needs: closed in the shim once it has them. */
  private theirs: number[] = [];
  /** Fds the shim holds until the process is deleted. */
  private ours: number[] = [];
  private stdinCopy?: { input: net.Socket; out: net.Socket };
  private logger?: ChildProcess;
  private pty?: PtyCopy;
  private termIn: StdioTarget = { kind: 'none' };
  private termOut: StdioTarget = { kind: 'none' };

  private constructor(readonly request: StdioRequest) {}

  static async open(req: StdioRequest, ctx: IoContext): Promise<ProcessIO> {
    const io = new ProcessIO(req);
    try {
      await io.setUp(req, ctx);
    } catch (err) {
      io.close();
      throw err;
    }
    return io;
  }

  private async setUp(req: StdioRequest, ctx: IoContext): Promise<void> {
    const stdin = parseStdio(req.stdin, 'stdin');
    const stdout = parseStdio(req.stdout, 'stdout');
    const stderr = parseStdio(req.stderr, 'stderr');
    if (stdin.kind === 'file' || stdin.kind === 'binary') throw new ConfigError('stdin', `stdin cannot be a ${stdin.kind}:// URI`);
    if (req.terminal) {
      // The process's stdio become the pty; what the helper gets meanwhile does not matter.
      this.termIn = stdin;
      this.termOut = stdout;
      this.fds.push(this.nullFd(C.O_RDONLY), this.nullFd(C.O_WRONLY), this.nullFd(C.O_WRONLY));
      return;
    }
    this.fds.push(this.openStdin(stdin));
    if (stdout.kind === 'binary') {
      const [out, err] = await this.startLogger(stdout, ctx);
      this.fds.push(out, err);
      return;
    }
    this.fds.push(this.openOutput(stdout), this.openOutput(stderr));
  }

  private nullFd(flags: number): number {
    const fd = fs.openSync('/dev/null', flags);
    this.theirs.push(fd);
    return fd;
  }

  private openStdin(t: StdioTarget): number {
    if (t.kind !== 'path') return this.nullFd(C.O_RDONLY);
    if (!isFifo(t.path)) {
      const fd = fs.openSync(t.path, C.O_RDONLY);
      this.theirs.push(fd);
      return fd;
    }
    // Copied, as runc's shim does: the process must see EOF when the client's writer closes, yet not
    // before it has opened (containerd's client opens it asynchronously and may never send CloseIO).
    // A fifo opened O_RDONLY|O_NONBLOCK polls neither readable nor hung up until a writer has come, so
    // the stream waits; the process reads a socket whose other end we shut down at the fifo's EOF.
    const [ours, theirs] = native().socketPair();
    this.theirs.push(theirs);
    const out = new net.Socket({ fd: ours, readable: false, writable: true });
    out.on('error', () => undefined);
    const input = new net.Socket({ fd: fs.openSync(t.path, C.O_RDONLY | C.O_NONBLOCK), readable: true, writable: false });
    input.on('error', () => out.end());
    input.pipe(out);
    this.stdinCopy = { input, out };
    return theirs;
  }

  private openOutput(t: StdioTarget): number {
    if (t.kind === 'none') return this.nullFd(C.O_WRONLY);
    if (t.kind === 'file') fs.mkdirSync(path.dirname(t.path), { recursive: true });
    if (t.kind === 'file' || (t.kind === 'path' && !isFifo(t.path))) {
      const fd = fs.openSync(t.path, C.O_WRONLY | C.O_APPEND | C.O_CREAT, 0o644);
      this.theirs.push(fd);
      return fd;
    }
    const p = (t as { path: string }).path;
    // Our reader first (never blocks), then the writer opens at once.
    this.ours.push(fs.openSync(p, C.O_RDONLY | C.O_NONBLOCK));
    const fd = fs.openSync(p, C.O_WRONLY);
    this.theirs.push(fd);
    return fd;
  }

  /** binary://: the logger reads stdout on fd 3 and stderr on fd 4, and closes fd 5 when it is ready. */
  private async startLogger(t: Extract<StdioTarget, { kind: 'binary' }>, ctx: IoContext): Promise<[number, number]> {
    const [outW, outR] = native().socketPair();
    const [errW, errR] = native().socketPair();
    this.theirs.push(outW, errW);
    let child: ChildProcess;
    try {
      child = spawn(t.path, t.args, {
        stdio: ['ignore', 'ignore', 'ignore', outR, errR, 'pipe'],
        env: { CONTAINER_ID: ctx.id, CONTAINER_NAMESPACE: ctx.namespace },
      });
    } finally {
      fs.closeSync(outR);
      fs.closeSync(errR);
    }
    this.logger = child;
    if (child.pid) ctx.onProcess?.(child.pid);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`logger ${t.path} not ready after ${LOGGER_READY_MS} ms`)), LOGGER_READY_MS);
      const done = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      child.once('error', (e) => done(new Error(`logger ${t.path}: ${e.message}`)));
      const ready = (child.stdio as unknown as net.Socket[])[5]!;
      ready.on('data', () => undefined);
      ready.once('close', () => done());
    });
    return [outW, errW];
  }

  /** The process has its fds: the shim's copies of them go. */
  closeAfterStart(): void {
    for (const fd of this.theirs.splice(0)) closeQuiet(fd);
  }

  /** A terminal process: copy between its pty master and the fifos. */
  attachMaster(master: number): void {
    this.pty = new PtyCopy(master, this.termIn, this.termOut);
  }

  resize(height: number, width: number): void {
    if (!this.pty) throw new ConfigError('', 'the process has no terminal');
    this.pty.resize(height, width);
  }

  /** CloseIO: the process sees the end of its stdin (after what was already copied). */
  closeStdin(): void {
    if (this.stdinCopy) {
      this.stdinCopy.input.unpipe();
      this.stdinCopy.input.destroy();
      this.stdinCopy.out.end();
      this.stdinCopy = undefined;
    }
    this.pty?.closeStdin();
  }

  /** After the exit: everything the process wrote reaches the fifo (at most `ms`), then the output ends. */
  async drain(ms = 2000): Promise<void> {
    await this.pty?.drain(ms);
  }

  /** Releases everything (the process is being deleted). */
  close(): void {
    this.closeAfterStart();
    this.closeStdin();
    for (const fd of this.ours.splice(0)) closeQuiet(fd);
    this.pty?.close();
    if (this.logger && this.logger.exitCode === null && this.logger.signalCode === null) {
      // A chance to flush, then it goes (runc's shim waits the same way).
      const l = this.logger;
      l.kill('SIGTERM');
      setTimeout(() => l.kill('SIGKILL'), 5000).unref();
    }
  }
}

function isFifo(p: string): boolean {
  try {
    return fs.statSync(p).isFIFO();
  } catch {
    return false;
  }
}

function closeQuiet(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
