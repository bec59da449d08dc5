import { checkRawGlobals, fail, resolveGlobals, type Globals } from '../context';
import type { FastCall } from './parse';
import { stateAction } from '../commands/state';
import { startAction } from '../commands/start';
import { killAction } from '../commands/kill';
import { deleteAction } from '../commands/delete';
import { listAction } from '../commands/list';
import { createAction, type CreateFlags } from '../commands/create';
import { execAction, type ExecFlags } from '../commands/exec';

type Action = (g: Globals, operands: string[], opts: Record<string, unknown>) => Promise<void>;

const ACTIONS: Record<string, Action> = {
  state: (g, [id]) => stateAction(g, id!),
  start: (g, [id]) => startAction(g, id!),
  kill: (g, [id, signal], o) => killAction(g, id!, signal, o),
  delete: (g, [id], o) => deleteAction(g, id!, o),
  list: (g, _, o) => listAction(g, o as { format: string; quiet?: boolean }),
  create: (g, [id], o) => createAction(g, id!, o as unknown as CreateFlags),
  exec: (g, [id, ...command], o) => execAction(g, id!, command, o as unknown as ExecFlags),
};

/** Runs a call the fast parser took, with the commander path's checks, errors and exit codes. */
export async function runFast(call: FastCall): Promise<void> {
  const command = call.command === 'ls' ? 'list' : call.command;
  const g = resolveGlobals(call.globals);
  try {
    checkRawGlobals(call.globals);
    await ACTIONS[command]!(g, call.operands, call.opts);
  } catch (err) {
    fail(g, command, err);
  }
}
