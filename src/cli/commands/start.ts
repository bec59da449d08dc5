import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { startAction } from '../actions/start';

export function registerStart(program: Command, wrap: Wrap): void {
  program
    .command('start')
    .description('run the user process of a created container')
    .argument('<container-id>')
    .action(wrap('start', (id: string, _o: unknown, cmd: Command) => startAction(globals(cmd), id)));
}
