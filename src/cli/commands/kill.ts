import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerKill(program: Command, wrap: Wrap): void {
  program
    .command('kill')
    .description('send a signal (default SIGTERM) to the container init')
    .argument('<container-id>')
    .argument('[signal]')
    .option('-a, --all', 'signal every process of the container')
    .action(
      wrap('kill', (id: string, signal: string | undefined, o: { all?: boolean }, cmd: Command) =>
        loadCall().then(({ killAction }) => killAction(globals(cmd), id, signal, o))),
    );
}

/** The action, from the call's own bundle (dist/lib/call-kill.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-kill');
