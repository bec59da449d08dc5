import type { Command } from 'commander';
import { createOptions } from './create';
import { createArgs, type CreateFlags } from '../actions/create-args';
import type { Wrap } from './index';
import { foregroundConsole } from '../tty';
import { globals, warnerFor } from '../context';
import { markRepresentative } from '../fast/warm-mark';

export function registerRun(program: Command, wrap: Wrap): void {
  createOptions(program.command('run').description('create and start a container').argument('<container-id>'))
    .option('-d, --detach', 'return once the container is started')
    .option('--keep', 'do not delete the container after it exits')
    .option('--no-subreaper', 'do not become the subreaper of the container')
    .action(
      wrap('run', async (id: string, o: CreateFlags & { detach?: boolean; keep?: boolean; subreaper: boolean }, cmd: Command) => {
        const { run } = await import('../../runtime/ops/run');
        const g = globals(cmd);
        const args = createArgs(g, id, o);
        // Foreground without a console socket: our own terminal is the container's.
        if (!args.console && !o.detach) args.console = foregroundConsole();
        const status = await run({ ...args, detach: o.detach, keep: o.keep, noSubreaper: !o.subreaper, warn: warnerFor(g, 'run') });
        process.exitCode = status;
        markRepresentative();
      }),
    );
}
