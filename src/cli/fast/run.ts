import { checkRawGlobals, fail, resolveGlobals, type Globals } from '../context';
import { exitDone } from './exit';
import { parseFast } from './parse';

/** An action that resolves true has nothing left running: the call may exit at once. */
export type Action = (g: Globals, operands: string[], opts: Record<string, unknown>) => Promise<void | boolean>;

/**
 * A call bundle's main (src/cli/calls/): runs `action` when the fast parser takes `args` as one of
 * `commands`, with the commander path's checks, errors and exit codes; any other argv goes to
 * commander's full CLI (the entry only guessed the command).
 * `exitWhenDone`: the call leaves nothing behind once its action resolved (no child, stream or socket
 * of its own is still open; output went out with writeSync), so it exits there. Letting the loop drain
 * instead made Node tear down its heap and isolate (munmap of every V8 page, ~2.5 ms CPU a call on this
 * VM); exit() skips that, as every failing call always did. exec exits when its action says so
 * (detached, no terminal of ours: what engines call); otherwise it may still be copying a terminal and
 * ends when its loop drains.
 */
export async function runFast(args: string[], commands: string[], action: Action, exitWhenDone = true): Promise<void> {
  const call = parseFast(args);
  if (!call || call === 'version' || !commands.includes(call.command)) {
    const { runFull } = await import('../full');
    return runFull(process.argv);
  }
  const command = call.command === 'ls' ? 'list' : call.command;
  const g = resolveGlobals(call.globals);
  try {
    checkRawGlobals(call.globals);
    const nothingLeft = await action(g, call.operands, call.opts);
    if (exitWhenDone || nothingLeft === true) exitDone();
  } catch (err) {
    fail(g, command, err);
  }
}
