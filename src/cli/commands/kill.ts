import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerKill(program: Command, wrap: Wrap): void {
  program
    .command('kill')
    .description('send a signal (default SIGTERM) to the container init')
    .argument('<container-id>')
    .argument('[signal]')
    .option('-a, --all', 'signal every process of the container')
    .action(
      wrap('kill', async (id: string, signal: string | undefined, o: { all?: boolean }, cmd: Command) => {
        const { kill } = await import('../../runtime/ops/kill');
        kill(globals(cmd).root, id, signal, { all: o.all });
      }),
    );
}
