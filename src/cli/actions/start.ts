import type { Globals } from '../context';

export async function startAction(g: Globals, id: string): Promise<void> {
  const { start } = await import('../../runtime/ops/start');
  await start(g.root, id);
}
