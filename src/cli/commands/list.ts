import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { listAction } from '../actions/list';

export function registerList(program: Command, wrap: Wrap): void {
  program
    .command('list')
    .alias('ls')
    .description('list containers')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only the ids')
    .action(wrap('list', (o: { format: string; quiet?: boolean }, cmd: Command) => listAction(globals(cmd), o)));
}
