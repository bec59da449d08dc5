import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerStart(program: Command, wrap: Wrap): void {
  program
    .command('start')
    .description('run the user process of a created container')
    .argument('<container-id>')
    .action(
      wrap('start', async (id: string, _o: unknown, cmd: Command) => {
        const { start } = await import('../../runtime/ops/start');
        await start(globals(cmd).root, id);
      }),
    );
}
