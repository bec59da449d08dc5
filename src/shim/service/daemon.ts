// The long-lived shim server: subreaper, ttrpc on the socket `start` bound (fd 3), events to containerd,
// log lines to the `log` fifo containerd reads in the first container's bundle.
import fs from 'node:fs';
import { native } from '../../runtime/native';
import { Publisher } from '../events/publisher';
import { Task } from '../proto';
import { socketPath } from '../ttrpc/address';
import { TtrpcServer } from '../ttrpc/server';
import type { ShimFlags } from './flags';
import { TaskService } from './task';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** logrus' text format, which containerd copies into its own log. */
function openLog(debug: boolean): (level: Level, msg: string) => void {
  let fd = -1;
  try {
    // containerd holds the fifo open read-write: this open never blocks. Non-blocking writes: a full
    // fifo (containerd gone) drops lines instead of stalling every container's I/O.
    fd = fs.openSync('log', fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    // no log fifo (started by hand)
  }
  return (level, msg) => {
    if (fd < 0 || (level === 'debug' && !debug)) return;
    try {
      fs.writeSync(fd, `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)} runtime=io.containerd.tsrunc.v2 pid=${process.pid}\n`);
    } catch {
      // dropped
    }
  };
}

export async function serve(f: ShimFlags): Promise<number> {
  native().setChildSubreaper();
  const log = openLog(f.debug);
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
