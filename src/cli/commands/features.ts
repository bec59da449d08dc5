import type { Command } from 'commander';
import type { Wrap } from './index';
import { out } from '../output';

export function registerFeatures(program: Command, wrap: Wrap): void {
  program
    .command('features')
    .description('print what this runtime supports as JSON')
    .action(
      wrap('features', async () => {
        const { features } = await import('../../runtime/ops/features');
        out(JSON.stringify(features(), null, '    ') + '\n');
      }),
    );
}
