import fs from 'node:fs';
import { RuntimeError } from '../errors';
import { isHookFailure, runHooks } from '../hooks';
import { native } from '../native';
import { lifecycleStatus } from '../state/status';
import { StateStore } from '../state/store';
import { ociState } from './state';

const GO = new Uint8Array([0x73]); // 's'

/** `start`: release the created init into the user's program, exactly once. */
export async function start(root: string, id: string): Promise<void> {
  const store = new StateStore(root);
  const dir = await store.lock(id);
  let destroyed = false;
  try {
    const record = dir.read();
    const status = lifecycleStatus(record, dir.path);
    if (status === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
    if (status !== 'created') {
      const { containerStatus } = await import('../state/container-status');
      throw new RuntimeError(`cannot start an already ${containerStatus(record, dir.path)} container`);
    }
    try {
      await releaseInit(dir.path, dir.fd);
    } catch (err) {
      // runtime.md: a failing startContainer hook stops the container, which is then destroyed.
      if (!isHookFailure(err, 'startContainer')) throw err;
      destroyed = true;
      const { destroyAfterHookFailure } = await import('./start-failed');
      throw await destroyAfterHookFailure(record, dir, err as Error);
    }
    // runtime.md 1.3 lifecycle: a failing poststart hook fails start; the container is destroyed and
    // the poststop hooks run (step 12), as after any failing hook.
    try {
      await runHooks('poststart', record.hooks?.poststart, ociState(record, 'running'));
    } catch (err) {
      destroyed = true;
      const { destroyAfterHookFailure } = await import('./start-failed');
      throw await destroyAfterHookFailure(record, dir, err as Error);
    }
  } finally {
    if (!destroyed) dir.release();
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
    unlinkIfPresent(`${dirPath}/start.sock`);
    native().sendMsg(conn, GO); // (a Buffer.from here compiled Buffer's string path first: ~0.1 ms)
    let reply = '';
    for (;;) {
      // Waits first: nothing can be there before the init acts on the go (every start's first recvmsg,
      // with its 256 KiB buffer, found nothing).
      await native().waitReadable(conn);
      const msg = native().recvMsg(conn);
      if (!msg) continue;
      if (msg.data.length === 0) break;
      reply += msg.data.toString('utf8');
    }
    if (reply.startsWith('E')) throw new RuntimeError(reply.slice(1));
  } finally {
    fs.closeSync(conn);
  }
}

/** Unlinks a file that may already be gone (fs.rmSync would load its recursive remover: ~0.7 ms a call). */
function unlinkIfPresent(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
