import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Wrap } from './index';

export function registerSpec(program: Command, wrap: Wrap): void {
  program
    .command('spec')
    .description('write a default config.json')
    .option('-b, --bundle <dir>', 'bundle directory to write it in', '.')
    .option('--rootless', 'a config for a container started by an unprivileged user')
    .action(
      wrap('spec', async (o: { bundle: string; rootless?: boolean }) => {
        const { defaultSpec } = await import('../../bundle/spec');
        const file = path.join(o.bundle, 'config.json');
        // 'wx' refuses to overwrite, like runc.
        fs.writeFileSync(file, JSON.stringify(defaultSpec({ rootless: o.rootless }), null, '\t') + '\n', { flag: 'wx' });
      }),
    );
}
