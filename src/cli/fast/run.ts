import { checkRawGlobals, fail, resolveGlobals, type Globals } from '../context';
import type { FastCall } from './parse';
import { stateAction } from '../actions/state';
import { startAction } from '../actions/start';
import { killAction } from '../actions/kill';
import { deleteAction } from '../actions/delete';
import { listAction } from '../actions/list';
import { createAction, type CreateFlags } from '../actions/create';
import { execAction, type ExecFlags } from '../actions/exec';

/** An action that resolves true has nothing left running: the call may exit at once. */
type Action = (g: Globals, operands: string[], opts: Record<string, unknown>) => Promise<void | boolean>;

const ACTIONS: Record<string, Action> = {
  state: (g, [id]) => stateAction(g, id!),
  start: (g, [id]) => startAction(g, id!),
  kill: (g, [id, signal], o) => killAction(g, id!, signal, o),
  delete: (g, [id], o) => deleteAction(g, id!, o),
  list: (g, _, o) => listAction(g, o as { format: string; quiet?: boolean }),
  create: (g, [id], o) => createAction(g, id!, o as unknown as CreateFlags),
  exec: (g, [id, ...command], o) => execAction(g, id!, command, o as unknown as ExecFlags),
};

/**
 * Calls that leave nothing behind once their action resolved (no child, stream or socket of theirs is
 * still open; output went out with writeSync): they exit there. Letting the loop drain instead made Node
 * tear down its heap and isolate (munmap of every V8 page, ~2.5 ms CPU a call on this VM); exit() skips
 * that, as every failing call always did. create too: its init holds what it handed over, the warm
 * code cache is written on 'exit'. exec when its action says so (detached, no terminal of ours: what
 * engines call); otherwise it may still be copying a terminal and ends when its loop drains.
 */
const EXIT_WHEN_DONE = new Set(['state', 'start', 'kill', 'delete', 'list', 'create']);

/** Runs a call the fast parser took, with the commander path's checks, errors and exit codes. */
export async function runFast(call: FastCall): Promise<void> {
  const command = call.command === 'ls' ? 'list' : call.command;
  const g = resolveGlobals(call.globals);
  try {
    checkRawGlobals(call.globals);
    const nothingLeft = await ACTIONS[command]!(g, call.operands, call.opts);
    if (EXIT_WHEN_DONE.has(command) || nothingLeft === true) process.exit();
  } catch (err) {
    fail(g, command, err);
  }
}
