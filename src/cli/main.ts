// The CLI entry, compiled by every call, so it only picks the file that serves it: an engine's hot call
// loads its own bundle (dist/lib/call-<command>.cjs: the fast parser, the call's action and its
// operation, one file), everything else commander's full CLI. One file loads ~0.9 ms faster than the
// same code split over two (entry and operation: bench/startup.mjs --own).
import { VERSION_TEXT } from './context';
import { GLOBALS } from './fast/options';
import { out } from './output';

interface CallBundle {
  main(args: string[]): Promise<void>;
}

/**
 * The command word: the first argument that is not a global option (a value-taking one skips its
 * value). Only a guess: the call bundle parses argv itself and hands what it does not take to commander.
 */
function commandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) return a;
    if (Object.hasOwn(GLOBALS, a) && GLOBALS[a]!.value) i++;
  }
  return undefined;
}

// One import per bundle, spelled out: the build maps each to its file (scripts/build.mjs, lazyOps).
function loadCall(command: string | undefined): Promise<CallBundle> {
  switch (command) {
    case 'state':
      return import('./calls/call-state');
    case 'start':
      return import('./calls/call-start');
    case 'kill':
      return import('./calls/call-kill');
    case 'delete':
      return import('./calls/call-delete');
    case 'create':
      return import('./calls/call-create');
    case 'exec':
      return import('./calls/call-exec');
    case 'list':
    case 'ls':
      return import('./calls/call-list');
    default:
      return import('./full').then(({ runFull }) => ({ main: () => runFull(process.argv) }));
  }
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  out(VERSION_TEXT + '\n');
  // not a drained loop: that frees the heap and isolate first (~2.5 ms CPU here; see fast/exit.ts)
  process.exit();
} else void loadCall(commandOf(args)).then((bundle) => bundle.main(args));
