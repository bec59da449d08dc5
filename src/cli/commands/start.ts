import type { Command } from 'commander';
import { globals, type Globals } from '../context';
import type { Wrap } from './index';

export async function startAction(g: Globals, id: string): Promise<void> {
  const { start } = await import('../../runtime/ops/start');
  await start(g.root, id);
}

export function registerStart(program: Command, wrap: Wrap): void {
  program
    .command('start')
    .description('run the user process of a created container')
    .argument('<container-id>')
    .action(wrap('start', (id: string, _o: unknown, cmd: Command) => startAction(globals(cmd), id)));
}
