// `tsrunc kill`: its action and operation in one bundle (dist/lib/call-kill.cjs), loaded by the
// fast entry for the call and by commander's command for the action.
// `kill --all` loads the cgroup-wide operation (dist/lib/kill.cjs) besides.
import { runFast } from '../fast/run';
import { killAction } from '../actions/kill';

export { killAction };

export const main = (args: string[]) => runFast(args, ['kill'], (g, [id, signal], o) => killAction(g, id!, signal, o));
