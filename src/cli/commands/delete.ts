import type { Command } from 'commander';
import { globals, writeLog } from '../context';
import { err } from '../output';
import type { Wrap } from './index';

export function registerDelete(program: Command, wrap: Wrap): void {
  program
    .command('delete')
    .description('delete a container and what it holds')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first when it is running')
    .action(
      wrap('delete', async (id: string, o: { force?: boolean }, cmd: Command) => {
        const { deleteContainer } = await import('../../runtime/ops/delete');
        const g = globals(cmd);
        // A failed poststop hook is a warning (runtime.md): logged, and delete still succeeds.
        const warn = (m: string) => (g.log ? writeLog(g, 'warning', m) : err(`tsrunc: delete: warning: ${m}\n`));
        await deleteContainer(g.root, id, { force: o.force, warn });
      }),
    );
}
