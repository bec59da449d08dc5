import type { Command } from 'commander';
import { err, out } from '../output';
import type { Wrap } from './index';
import { addStoreOption, openStore } from './store-option';

const collect = (v: string, all: string[]) => [...all, v];

export function registerBundle(program: Command, wrap: Wrap): void {
  addStoreOption(program);
  const bundle = program.command('bundle').description('bundles from images: overlayfs of shared layers + a writable layer');
  bundle
    .command('create <bundle> [cmd...]')
    .description('make BUNDLE (config.json + rootfs) from an image; CMD replaces the image Cmd')
    .requiredOption('--image <name>', 'image NAME[:TAG] or digest')
    .option('--volume <src:dst[:ro]>', 'host path or volume name to mount (repeatable)', collect, [])
    .option('--env <k=v>', 'environment variable (repeatable)', collect, [])
    .option('--user <user>', 'user[:group], names from the image /etc/passwd and /etc/group')
    .option('--workdir <dir>', 'working directory')
    .option('--entrypoint <path>', 'replace the image Entrypoint (and drop its Cmd)')
    .option('--seccomp <profile>', 'Docker/containers-common seccomp profile (default: containers-common)')
    .option('--no-seccomp', 'no seccomp profile')
    .passThroughOptions()
    .action(
      wrap('bundle create', async (dir: string, args: string[], o: any, cmd: Command) => {
        const { createBundle } = await import('../../bundle/bundles');
        const store = await openStore(cmd);
        const rec = createBundle(store, dir, {
          image: o.image,
          volumes: o.volume,
          env: o.env,
          user: o.user,
          workdir: o.workdir,
          entrypoint: o.entrypoint,
          cmd: args,
          seccomp: o.seccomp === false ? false : typeof o.seccomp === 'string' ? o.seccomp : undefined,
          notice: (m) => err(`tsrunc: bundle create: notice: ${m}\n`),
        });
        out(`${rec.bundle} (${rec.image}, ${rec.overlay ? 'overlay' : 'flat copy'})\n`);
      }),
    );
  bundle
    .command('rm <bundle>')
    .description('unmount and delete the rootfs and writable layer (volumes stay)')
    .action(
      wrap('bundle rm', async (dir: string) => {
        const { removeBundle } = await import('../../bundle/bundles');
        removeBundle(dir);
      }),
    );
  bundle
    .command('mount <bundle>')
    .description('mount the rootfs overlay again (after a reboot)')
    .action(
      wrap('bundle mount', async (dir: string) => {
        const { mountBundle } = await import('../../bundle/bundles');
        mountBundle(dir);
      }),
    );
  bundle
    .command('commit <bundle> <image>')
    .description('make the writable layer a new layer of a new image NAME[:TAG]')
    .action(
      wrap('bundle commit', async (dir: string, ref: string) => {
        const { commitBundle } = await import('../../bundle/images');
        const r = await commitBundle(dir, ref);
        out(`${r.name} ${r.digest}\n`);
      }),
    );
}
