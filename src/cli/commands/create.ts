import type { Command } from 'commander';
import { globals } from '../context';
import { count, type Wrap } from './index';
import type { CreateFlags } from '../actions/create-args';

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

export function registerCreate(program: Command, wrap: Wrap): void {
  createOptions(program.command('create').description('create a container').argument('<container-id>')).action(
    wrap('create', (id: string, o: CreateFlags, cmd: Command) =>
      loadCall().then(({ createAction }) => createAction(globals(cmd), id, o))),
  );
}

/** The action, from the call's own bundle (dist/lib/call-create.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-create');
