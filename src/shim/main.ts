// containerd-shim-tsrunc-v2: containerd's runtime v2 shim for tsrunc. containerd 1.6 runs it as
//   SHIM -namespace NS -address SOCK -publish-binary CONTAINERD -id ID [-debug] start    (cwd: the bundle)
//   SHIM -namespace NS -address SOCK -publish-binary CONTAINERD -id ID -bundle B delete
// `start` answers with the address of a shim serving the container (a new one, detached, or one that
// already serves its group); with no action the binary is that long-lived server. containerd usually
// runs the C launcher (native/shimlaunch), which does the common `start` and `delete` itself and execs
// this file for the rest, with the same argv.
import path from 'node:path';
import { loadCached } from '../cli/fast/code-cache';
import { parseShimFlags, usage, type ShimFlags } from './service/flags';

/**
 * Each action is a bundle of its own next to this one (dist/shim-<action>.cjs): `start` and `delete` run
 * once per container, and a Node start that parses only what it runs is the cheapest part to save.
 */
function action<T>(name: string, fn: string): (f: ShimFlags) => Promise<T> {
  return (require(path.join(__dirname, `shim-${name}.cjs`)) as Record<string, (f: ShimFlags) => Promise<T>>)[fn]!;
}

async function main(): Promise<number> {
  const flags = parseShimFlags(process.argv.slice(2));
  if (flags.version) {
    process.stdout.write(`${process.argv[1] ?? 'containerd-shim-tsrunc-v2'}:\n  Version:  tsrunc shim v2\n  Node:     ${process.version}\n`);
    return 0;
  }
  if (!flags.namespace) throw new Error('shim namespace cannot be empty');
  switch (flags.action) {
    case 'start':
      return action<number>('start', 'startCommand')(flags);
    case 'delete':
      return action<number>('delete', 'deleteCommand')(flags);
    case '':
      // The server's bundle (~300 KB) compiles from V8's code cache, made by the build under the flags
      // `start` gives the server (a cache made under other flags is rejected: then it compiles as usual).
      return (loadCached(path.join(__dirname, 'shim-daemon.cjs')) as { serve: (f: ShimFlags) => Promise<number> }).serve(flags);
    default:
      throw new Error(`unknown action ${JSON.stringify(flags.action)}\n${usage}`);
  }
}

main().then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`containerd-shim-tsrunc-v2: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
