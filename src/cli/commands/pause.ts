import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

export function registerPause(program: Command, wrap: Wrap): void {
  for (const name of ['pause', 'resume'] as const) {
    program
      .command(name)
      .description(name === 'pause' ? 'freeze every process of the container' : 'thaw a paused container')
      .argument('<container-id>')
      .action(
        wrap(name, async (id: string, _o: unknown, cmd: Command) => {
          const ops = await import('../../runtime/ops/pause');
          await ops[name](globals(cmd).root, id);
        }),
      );
  }
}
