import type { Command } from 'commander';
import { err, out } from '../output';
import type { Wrap } from './index';
import { addStoreOption, openStore } from './store-option';

function human(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) (n /= 1000), i++;
  return `${n.toFixed(i ? 1 : 0)}${u[i]}`;
}

export function registerImage(program: Command, wrap: Wrap): void {
  addStoreOption(program);
  const image = program.command('image').description('images in the store (OCI layout + unpacked layers)');
  image
    .command('import <path>')
    .description('import an OCI layout dir (DIR[:TAG|@sha256:...]) or a docker-archive tar')
    .option('--tag <name>', 'NAME[:TAG] for the imported image')
    .option('--platform <os/arch>', 'platform to pick from a multi-platform index', 'linux/amd64')
    .action(
      wrap('image import', async (path: string, o: { tag?: string; platform: string }, cmd: Command) => {
        const { importImage, progressLine } = await import('../../bundle/images');
        // Progress on a terminal only (bytes and layers); quiet when piped.
        const p = require('node:tty').isatty(2) ? progressLine(err) : undefined;
        const r = await importImage(await openStore(cmd), path, { tag: o.tag, platform: o.platform, progress: p?.update, notice: (m) => err(`tsrunc: image import: notice: ${m}\n`) }).finally(() => p?.end());
        out(`${r.name} ${r.digest} (${r.layers} layers, ${r.unpacked} unpacked)\n`);
      }),
    );
  image
    .command('ls')
    .description('list images')
    .option('--format <format>', 'table or json', 'table')
    .action(
      wrap('image ls', async (o: { format: string }, cmd: Command) => {
        if (o.format !== 'table' && o.format !== 'json') throw new Error(`invalid --format "${o.format}": use table or json`);
        const { listImages } = await import('../../bundle/images');
        const list = listImages(await openStore(cmd));
        if (o.format === 'json') return out(JSON.stringify(list) + '\n');
        out('NAME\tDIGEST\tLAYERS\tSIZE\n');
        for (const i of list) out(`${i.name}\t${i.digest.slice(7, 19)}\t${i.layers}\t${human(i.size)}\n`);
      }),
    );
  image
    .command('rm <image>')
    .description('remove an image (refused while a bundle uses it)')
    .action(
      wrap('image rm', async (ref: string, _o: unknown, cmd: Command) => {
        const { removeImage } = await import('../../bundle/images');
        out(`${removeImage(await openStore(cmd), ref)}\n`);
      }),
    );
}
