import type { Command } from 'commander';
import { globals, type Globals } from '../context';
import type { Wrap } from './index';

export async function killAction(g: Globals, id: string, signal: string | undefined, o: { all?: boolean }): Promise<void> {
  const { kill } = await import('../../runtime/ops/kill');
  kill(g.root, id, signal, { all: o.all });
}

export function registerKill(program: Command, wrap: Wrap): void {
  program
    .command('kill')
    .description('send a signal (default SIGTERM) to the container init')
    .argument('<container-id>')
    .argument('[signal]')
    .option('-a, --all', 'signal every process of the container')
    .action(
      wrap('kill', (id: string, signal: string | undefined, o: { all?: boolean }, cmd: Command) => killAction(globals(cmd), id, signal, o)),
    );
}
