// `tsrunc list`: its action and operation in one bundle (dist/lib/call-list.cjs), loaded by the
// fast entry for the call and by commander's command for the action.
import { runFast } from '../fast/run';
import { listAction } from '../actions/list';

export { listAction };

export const main = (args: string[]) => runFast(args, ['list', 'ls'], (g, _, o) => listAction(g, o as { format: string; quiet?: boolean }));
