import type { Command } from 'commander';
import { globals, type Globals } from '../context';
import type { Wrap } from './index';
import { out } from '../output';

export async function stateAction(g: Globals, id: string): Promise<void> {
  const { state } = await import('../../runtime/ops/state');
  out(JSON.stringify(state(g.root, id), null, '  ') + '\n');
}

export function registerState(program: Command, wrap: Wrap): void {
  program
    .command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action(wrap('state', (id: string, _o: unknown, cmd: Command) => stateAction(globals(cmd), id)));
}
