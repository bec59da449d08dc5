import type { Globals } from '../context';
import { start } from '../../runtime/ops/start';

export async function startAction(g: Globals, id: string): Promise<void> {
  await start(g.root, id);
}
