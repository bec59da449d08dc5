// `tsrunc start`: its action and operation in one bundle (dist/lib/call-start.cjs), loaded by the
// fast entry for the call and by commander's command for the action.
import { runFast } from '../fast/run';
import { startAction } from '../actions/start';

export { startAction };

export const main = (args: string[]) => runFast(args, ['start'], (g, [id]) => startAction(g, id!));
