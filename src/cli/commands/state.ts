import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerState(program: Command, wrap: Wrap): void {
  program
    .command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action(wrap('state', (id: string, _o: unknown, cmd: Command) =>
      loadCall().then(({ stateAction }) => stateAction(globals(cmd), id))));
}

/** The action, from the call's own bundle (dist/lib/call-state.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-state');
