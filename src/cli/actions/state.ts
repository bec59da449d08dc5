import type { Globals } from '../context';
import { out } from '../output';

export async function stateAction(g: Globals, id: string): Promise<void> {
  const { state } = await import('../../runtime/ops/state');
  out(JSON.stringify(state(g.root, id), null, '  ') + '\n');
}
