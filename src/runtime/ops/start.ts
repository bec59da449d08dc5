import fs from 'node:fs';
import net from 'node:net';
import { RuntimeError } from '../errors';
import { containerStatus } from '../state/status';
import { StateStore } from '../state/store';

/** `start`: release the created init into the user's program, exactly once. */
export async function start(root: string, id: string): Promise<void> {
  const store = new StateStore(root);
  const dir = store.lock(id);
  try {
    const record = dir.read();
    const status = containerStatus(record, dir.path);
    if (status === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
    if (status !== 'created') throw new RuntimeError(`cannot start an already ${status} container`);
    await releaseInit(dir.path, dir.fd);
  } finally {
    dir.release();
  }
}

/**
 * Connects to the init's start socket (through /proc/self/fd: the state path may be too long
 * for a socket address) and says go. The init closes the connection by exec'ing the program,
 * or sends the error that stopped it.
 */
function releaseInit(dirPath: string, dirFd: number): Promise<void> {
  const address = `/proc/self/fd/${dirFd}/start.sock`;
  return new Promise((resolve, reject) => {
    const conn = net.connect(address);
    let reply = '';
    conn.on('connect', () => {
      // Gone before the program runs: `state` says running from here on.
      fs.rmSync(`${dirPath}/start.sock`, { force: true });
      conn.write('s');
    });
    conn.on('data', (chunk) => (reply += chunk.toString('utf8')));
    conn.on('error', (err) => reject(new RuntimeError(`cannot reach the container init: ${err.message}`)));
    conn.on('close', () => {
      if (reply.startsWith('E')) reject(new RuntimeError(reply.slice(1)));
      else resolve();
    });
  });
}
