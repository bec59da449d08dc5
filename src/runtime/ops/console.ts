import fs from 'node:fs';
import { RuntimeError } from '../errors';
import { native } from '../native';

/**
 * Where a terminal's pty master goes: a `--console-socket` path (runc's protocol: one SCM_RIGHTS
 * message on a unix stream socket), or a callback of the caller (foreground `run -t`/`exec -t`).
 */
export type ConsoleTarget = { socketPath: string } | { onMaster: (masterFd: number) => void | Promise<void> };

export interface OpenConsole {
  /** The fd the helper sends the master on. */
  helperFd: number;
  closeHelperEnd(): void;
  /** After the helper sent it: hand the master to the callback (no-op for a socket path). */
  deliver(): Promise<void>;
  close(): void;
}

export function openConsole(target: ConsoleTarget | undefined): OpenConsole {
  if (!target) throw new RuntimeError('a terminal needs --console-socket (or a foreground run/exec)');
  if ('socketPath' in target) {
    const fd = native().unixConnect(target.socketPath);
    const closeFd = once(() => fs.closeSync(fd));
    return { helperFd: fd, closeHelperEnd: closeFd, deliver: async () => undefined, close: closeFd };
  }
  const [ours, theirs] = native().socketPair();
  return {
    helperFd: theirs,
    closeHelperEnd: once(() => fs.closeSync(theirs)),
    deliver: async () => {
      for (;;) {
        const msg = native().recvMsg(ours);
        if (msg) {
          if (msg.fds.length !== 1) throw new RuntimeError('no pty master arrived from the container');
          await target.onMaster(msg.fds[0]!);
          return;
        }
        await native().waitReadable(ours);
      }
    },
    close: once(() => fs.closeSync(ours)),
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) fn();
    done = true;
  };
}
