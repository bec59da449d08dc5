import type { Globals } from '../context';

export async function killAction(g: Globals, id: string, signal: string | undefined, o: { all?: boolean }): Promise<void> {
  const { kill } = await import('../../runtime/ops/kill');
  kill(g.root, id, signal, { all: o.all });
}
