import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { out } from '../output';

export function registerState(program: Command, wrap: Wrap): void {
  program
    .command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action(
      wrap('state', async (id: string, _o: unknown, cmd: Command) => {
        const { state } = await import('../../runtime/ops/state');
        out(JSON.stringify(state(globals(cmd).root, id), null, '  ') + '\n');
      }),
    );
}
