import type { Command } from 'commander';

/** `tsrunc --store DIR image|bundle ...`: added to the root only when those commands are registered. */
export function addStoreOption(program: Command): void {
  if (!program.options.some((o) => o.long === '--store')) {
    program.option('--store <dir>', 'image store for image/bundle (default /var/lib/tsrunc, rootless $XDG_DATA_HOME/tsrunc)');
  }
}

export async function openStore(cmd: Command) {
  const { Store, defaultStoreRoot } = await import('../../bundle/bundles');
  const dir = (cmd.optsWithGlobals() as { store?: string }).store;
  return new Store(dir || defaultStoreRoot());
}
