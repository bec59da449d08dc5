import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { stateAction } from '../actions/state';

export function registerState(program: Command, wrap: Wrap): void {
  program
    .command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action(wrap('state', (id: string, _o: unknown, cmd: Command) => stateAction(globals(cmd), id)));
}
