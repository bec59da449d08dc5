import type { Command } from 'commander';
import { globals, warnerFor, type Globals } from '../context';
import type { Wrap } from './index';

export async function deleteAction(g: Globals, id: string, o: { force?: boolean }): Promise<void> {
  const { deleteContainer } = await import('../../runtime/ops/delete');
  // A failed poststop hook is a warning (runtime.md): logged, and delete still succeeds.
  await deleteContainer(g.root, id, { force: o.force, warn: warnerFor(g, 'delete') });
}

export function registerDelete(program: Command, wrap: Wrap): void {
  program
    .command('delete')
    .description('delete a container and what it holds')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first when it is running')
    .action(wrap('delete', (id: string, o: { force?: boolean }, cmd: Command) => deleteAction(globals(cmd), id, o)));
}
