import fs from 'node:fs';
import { RuntimeError } from '../errors';
import { native } from '../native';
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
 * Connects to the init's start socket (through /proc/self/fd: the state path may be too long for a
 * socket address) and says go. The init closes the connection by exec'ing the program (close-on-exec),
 * or sends the error that stopped it. (The addon, not node:net: loading net costs every start ~3 ms.)
 */
async function releaseInit(dirPath: string, dirFd: number): Promise<void> {
  let conn: number;
  try {
    conn = native().unixConnect(`/proc/self/fd/${dirFd}/start.sock`);
  } catch (err) {
    throw new RuntimeError(`cannot reach the container init: ${(err as Error).message}`);
  }
  try {
    // Gone before the program runs: `state` says running from here on.
    fs.rmSync(`${dirPath}/start.sock`, { force: true });
    native().sendMsg(conn, Buffer.from('s'));
    let reply = '';
    for (;;) {
      const msg = native().recvMsg(conn);
      if (!msg) {
        await native().waitReadable(conn);
        continue;
      }
      if (msg.data.length === 0) break;
      reply += msg.data.toString('utf8');
    }
    if (reply.startsWith('E')) throw new RuntimeError(reply.slice(1));
  } finally {
    fs.closeSync(conn);
  }
}
