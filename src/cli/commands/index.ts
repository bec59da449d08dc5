import { InvalidArgumentError, type Command } from 'commander';
import { registerCreate } from './create';
import { registerStart } from './start';
import { registerState } from './state';
import { registerKill } from './kill';
import { registerDelete } from './delete';
import { registerRun } from './run';
import { registerList } from './list';
import { registerSpec } from './spec';
import { registerFeatures } from './features';
import { registerExec } from './exec';
import { registerPause } from './pause';
import { registerPs } from './ps';
import { registerEvents } from './events';
import { registerUpdate } from './update';
import { registerImage } from './image';
import { registerBundle } from './bundle';

/** Wraps an action so its errors become one-line messages naming the command. */
export type Wrap = (command: string, action: (...args: any[]) => unknown) => (...args: any[]) => Promise<void>;

type Register = (program: Command, wrap: Wrap) => void;

const COMMANDS: Record<string, Register> = {
  create: registerCreate,
  start: registerStart,
  state: registerState,
  kill: registerKill,
  delete: registerDelete,
  run: registerRun,
  list: registerList,
  ls: registerList,
  spec: registerSpec,
  features: registerFeatures,
  exec: registerExec,
  pause: registerPause,
  resume: registerPause,
  ps: registerPs,
  events: registerEvents,
  update: registerUpdate,
  image: registerImage,
  bundle: registerBundle,
};

/**
 * Registers `only` (the command being run) or, for help and unknown commands, all of them: building
 * the whole command table costs every call ~2 ms.
 */
export function registerCommands(program: Command, wrap: Wrap, only?: string): void {
  const one = only !== undefined ? COMMANDS[only] : undefined;
  if (one) return one(program, wrap);
  for (const register of new Set(Object.values(COMMANDS))) register(program, wrap);
}

/** Global options that take a value (their value is not the command name). */
const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format', '--rootless', '--criu', '--store']);

/** The command name in argv (after the global options), if any. */
export function invokedCommand(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) return a;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
  }
  return undefined;
}

/** Parses a non-negative integer option. */
export function count(value: string): number {
  // commander reports an InvalidArgumentError as one line naming the option (a plain Error would crash).
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`not a count: ${value}`);
  return Number(value);
}
