import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerDelete(program: Command, wrap: Wrap): void {
  program
    .command('delete')
    .description('delete a container and what it holds')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first when it is running')
    .action(wrap('delete', (id: string, o: { force?: boolean }, cmd: Command) =>
      loadCall().then(({ deleteAction }) => deleteAction(globals(cmd), id, o))));
}

/** The action, from the call's own bundle (dist/lib/call-delete.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-delete');
