// `tsrunc delete`: its action and operation in one bundle (dist/lib/call-delete.cjs), loaded by the
// fast entry for the call and by commander's command for the action. Code-cached.
import { runFast } from '../fast/run';
import { deleteAction } from '../actions/delete';

export { deleteAction };

export const main = (args: string[]) => runFast(args, ['delete'], (g, [id], o) => deleteAction(g, id!, o));
