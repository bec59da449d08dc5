import type { Command } from 'commander';
import { createArgs, createOptions, type CreateFlags } from './create';
import type { Wrap } from './index';

export function registerRun(program: Command, wrap: Wrap): void {
  createOptions(program.command('run').description('create and start a container').argument('<container-id>'))
    .option('-d, --detach', 'return once the container is started')
    .option('--keep', 'do not delete the container after it exits')
    .option('--no-subreaper', 'do not become the subreaper of the container')
    .action(
      wrap('run', async (id: string, o: CreateFlags & { detach?: boolean; keep?: boolean; subreaper: boolean }, cmd: Command) => {
        const { run } = await import('../../runtime/ops/run');
        const status = await run({ ...createArgs(cmd, id, o), detach: o.detach, keep: o.keep, noSubreaper: !o.subreaper });
        process.exitCode = status;
      }),
    );
}
