// `tsrunc create`: its action and operation in one bundle (dist/lib/call-create.cjs), loaded by the
// fast entry for the call and by commander's command for the action. Code-cached; create exits when
// done: its init holds what it handed over.
import { runFast } from '../fast/run';
import { createAction } from '../actions/create';
import type { CreateFlags } from '../actions/create-args';

export { createAction };

export const main = (args: string[]) =>
  runFast(args, ['create'], (g, [id], o) => createAction(g, id!, o as unknown as CreateFlags));
