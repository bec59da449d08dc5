// `tsrunc state`: its action and operation in one bundle (dist/lib/call-state.cjs), loaded by the
// fast entry for the call and by commander's command for the action.
import { runFast } from '../fast/run';
import { stateAction } from '../actions/state';

export { stateAction };

export const main = (args: string[]) => runFast(args, ['state'], (g, [id]) => stateAction(g, id!));
