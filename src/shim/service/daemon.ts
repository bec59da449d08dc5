// The long-lived shim server: subreaper, ttrpc on the socket `start` bound (fd 3), events to containerd,
// log lines to the `log` fifo containerd reads in the first container's bundle.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../../runtime/native';
import { Publisher } from '../events/publisher';
import { Task } from '../proto';
import { socketPath } from '../ttrpc/address';
import { TtrpcServer } from '../ttrpc/server';
import { writeDeletedMarker } from './deleted-marker';
import type { ShimFlags } from './flags';
import { TaskService } from './task';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * Lines in logrus' text format to the `log` fifo of a bundle, which containerd copies into its own log.
 * containerd reads the fifo of each container it knows, so when the container whose fifo we write to is
 * deleted, the log moves to another container of this shim.
 */
class ShimLog {
  private fd = -1;
  private bundle = '';

  constructor(private readonly debug: boolean) {}

  open(bundle: string): void {
    this.close();
    try {
      // containerd holds the fifo open read-write: this open never blocks. Non-blocking writes: a full
      // fifo (containerd gone) drops lines instead of stalling every container's I/O.
      this.fd = fs.openSync(path.join(bundle, 'log'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      this.bundle = bundle;
    } catch {
      // no log fifo (started by hand)
    }
  }

  /** The container of `bundle` is gone: write to another one's fifo (or nowhere). */
  moveFrom(bundle: string, others: string[]): void {
    if (bundle !== this.bundle) return;
    if (others.length) this.open(others[0]!);
    else this.close();
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.bundle = '';
  }

  readonly line = (level: Level, msg: string): void => {
    if (this.fd < 0 || (level === 'debug' && !this.debug)) return;
    try {
      fs.writeSync(this.fd, `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)} runtime=io.containerd.tsrunc.v2 pid=${process.pid}\n`);
    } catch {
      // dropped
    }
  };
}

export async function serve(f: ShimFlags): Promise<number> {
  native().setChildSubreaper();
  const shimLog = new ShimLog(f.debug);
  shimLog.open(process.cwd());
  const log = shimLog.line;
  // The bundle we started in goes with its container; nothing here uses a relative path after this.
  process.chdir('/');
  process.on('uncaughtException', (err) => log('error', `uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log('error', `unhandled: ${(err as Error)?.stack ?? String(err)}`));
  const publisher = new Publisher({
    ttrpcAddress: process.env.TTRPC_ADDRESS,
    namespace: f.namespace,
    publishBinary: f.publishBinary,
    containerdAddress: f.address,
    log: (m) => log('warn', m),
  });
  const server = new TtrpcServer({ log: (m) => log('debug', m) });
  let stopping = false;
  const service = new TaskService({
    namespace: f.namespace,
    events: publisher,
    log,
    onDeleted: (bundle, others) => {
      writeDeletedMarker(bundle);
      shimLog.moveFrom(bundle, others);
    },
    onShutdown: () => {
      if (stopping) return;
      stopping = true;
      void (async () => {
        log('info', 'last container deleted: shutting down');
        // Unlinked before the socket closes: a `start` from then on makes a new shim, and never loses
        // its fresh socket file to our cleanup.
        if (f.socket) {
          fs.rmSync(`${socketPath(f.socket)}.pid`, { force: true });
          fs.rmSync(socketPath(f.socket), { force: true });
        }
        await server.close();
        await publisher.close(5000);
        process.exit(0);
      })();
    },
  });
  server.register(Task, service.handlers());
  if (f.socket) await server.listenFd(3);
  else throw new Error('the shim server needs -socket (it is started by `start`)');
  log('debug', `serving on ${f.socket}`);
  return -1;
}
