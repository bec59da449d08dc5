import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { out } from '../output';

export function registerPs(program: Command, wrap: Wrap): void {
  program
    .command('ps')
    .description('list the processes of a container')
    .argument('<container-id>')
    .argument('[ps-args...]', 'arguments for ps(1) in table format')
    .option('-f, --format <format>', 'table or json', 'table')
    .passThroughOptions()
    .action(
      wrap('ps', async (id: string, psArgs: string[], o: { format: string }, cmd: Command) => {
        const { containerPids, psTable } = await import('../../runtime/ops/ps');
        const root = globals(cmd).root;
        if (o.format === 'json') out(JSON.stringify(containerPids(root, id)) + '\n');
        else if (o.format === 'table') out(psTable(root, id, psArgs));
        else throw new Error(`invalid format "${o.format}"`);
      }),
    );
}
