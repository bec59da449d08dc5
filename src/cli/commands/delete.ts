import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { deleteAction } from '../actions/delete';

export function registerDelete(program: Command, wrap: Wrap): void {
  program
    .command('delete')
    .description('delete a container and what it holds')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first when it is running')
    .action(wrap('delete', (id: string, o: { force?: boolean }, cmd: Command) => deleteAction(globals(cmd), id, o)));
}
