// `tsrunc exec`: its action and operation in one bundle (dist/lib/call-exec.cjs), loaded by the
// fast entry for the call and by commander's command for the action. Code-cached; exec exits when
// its action says nothing is left (detached, no terminal of ours).
import { runFast } from '../fast/run';
import { execAction, type ExecFlags } from '../actions/exec';

export { execAction };

export const main = (args: string[]) =>
  runFast(args, ['exec'], (g, [id, ...command], o) => execAction(g, id!, command, o as unknown as ExecFlags), false);
