import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerStart(program: Command, wrap: Wrap): void {
  program
    .command('start')
    .description('run the user process of a created container')
    .argument('<container-id>')
    .action(wrap('start', (id: string, _o: unknown, cmd: Command) =>
      loadCall().then(({ startAction }) => startAction(globals(cmd), id))));
}

/** The action, from the call's own bundle (dist/lib/call-start.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-start');
