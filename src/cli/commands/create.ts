import type { Command } from 'commander';
import { globals, warnerFor, type Globals } from '../context';
import { count, type Wrap } from './index';
import type { CreateOptions } from '../../runtime/ops/create';

export function createOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .option('--console-socket <path>', 'unix socket that receives the pty master of a terminal')
    .option('--pid-file <file>', 'file to write the init pid to')
    .option('--no-pivot', 'use MS_MOVE and chroot instead of pivot_root')
    .option('--no-new-keyring', 'do not give the container a new session keyring')
    .option('--preserve-fds <n>', 'pass fds 3..3+n-1 to the container', count, 0)
    .option('--pidfd-socket <path>', 'not supported');
}

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

export function registerCreate(program: Command, wrap: Wrap): void {
  createOptions(program.command('create').description('create a container').argument('<container-id>')).action(
    wrap('create', (id: string, o: CreateFlags, cmd: Command) => createAction(globals(cmd), id, o)),
  );
}

export async function createAction(g: Globals, id: string, o: CreateFlags): Promise<void> {
  const { create } = await import('../../runtime/ops/create');
  await create({ ...createArgs(g, id, o), warn: warnerFor(g, 'create') });
}
