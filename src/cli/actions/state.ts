import type { Globals } from '../context';
import { out } from '../output';
import { state } from '../../runtime/ops/state';

export async function stateAction(g: Globals, id: string): Promise<void> {
  out(JSON.stringify(state(g.root, id), null, '  ') + '\n');
}
