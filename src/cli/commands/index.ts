import type { Command } from 'commander';
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

/** Wraps an action so its errors become one-line messages naming the command. */
export type Wrap = (command: string, action: (...args: any[]) => unknown) => (...args: any[]) => Promise<void>;

export function registerCommands(program: Command, wrap: Wrap): void {
  for (const register of [registerCreate, registerStart, registerState, registerKill, registerDelete, registerRun, registerList, registerSpec, registerFeatures, registerExec, registerPause, registerPs, registerEvents, registerUpdate])
    register(program, wrap);
}

/** Parses a non-negative integer option. */
export function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`not a count: ${value}`);
  return Number(value);
}
