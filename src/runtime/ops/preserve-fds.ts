// The fds a caller hands through to the container (--preserve-fds, socket activation).
import fs from 'node:fs';
import { RuntimeError } from '../errors';

/** Each of fds 3..3+count-1 must be open: say which one is not (else the helper fails obscurely). */
export function checkPreservedFds(count: number): void {
  for (let fd = 3; fd < 3 + count; fd++) {
    try {
      fs.fstatSync(fd);
    } catch {
      throw new RuntimeError(`preserved fd ${fd} (${fd - 2} of ${count}, from fd 3) is not open`);
    }
  }
}

/** runc's socket activation rule: the container's environment says how many fds it got, and that they are pid 1's. */
export function withListenEnv(env: readonly string[] | undefined, listenFds: number): string[] {
  const rest = (env ?? []).filter((e) => !e.startsWith('LISTEN_FDS=') && !e.startsWith('LISTEN_PID='));
  return [...rest, `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
}
