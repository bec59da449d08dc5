import type { Globals } from '../context';
import type { CreateOptions } from '../../runtime/ops/create';

export interface CreateFlags {
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  pivot: boolean;
  newKeyring: boolean;
  preserveFds: number;
}

/**
 * systemd socket activation: LISTEN_FDS fds from fd 3 on, for us when LISTEN_PID is our pid (runc's
 * rule; tsrunc also takes them when LISTEN_PID is unset).
 */
export function activationFds(): number {
  const pid = process.env.LISTEN_PID;
  if (pid !== undefined && pid !== String(process.pid)) return 0;
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export function createArgs(g: Globals, id: string, o: CreateFlags): CreateOptions {
  const listenFds = activationFds();
  return {
    root: g.root,
    id,
    bundle: o.bundle,
    pidFile: o.pidFile,
    console: o.consoleSocket ? { socketPath: o.consoleSocket } : undefined,
    noPivot: !o.pivot,
    noNewKeyring: !o.newKeyring,
    // systemd socket activation: the listening fds go through too.
    preserveFds: o.preserveFds + listenFds,
    listenFds,
  };
}
