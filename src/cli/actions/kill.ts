import type { Globals } from '../context';
import { killInit } from '../../runtime/ops/signal';

export async function killAction(g: Globals, id: string, signal: string | undefined, o: { all?: boolean }): Promise<void> {
  if (o.all) {
    const { kill } = await import('../../runtime/ops/kill');
    kill(g.root, id, signal, { all: true });
    return;
  }
  // The init alone (what engines send): no cgroup code to load (~6 KB less).
  killInit(g.root, id, signal);
}
