import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerList(program: Command, wrap: Wrap): void {
  program
    .command('list')
    .alias('ls')
    .description('list containers')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only the ids')
    .action(wrap('list', (o: { format: string; quiet?: boolean }, cmd: Command) =>
      loadCall().then(({ listAction }) => listAction(globals(cmd), o))));
}

/** The action, from the call's own bundle (dist/lib/call-list.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-list');
