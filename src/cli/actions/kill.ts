import type { Globals } from '../context';

export async function killAction(g: Globals, id: string, signal: string | undefined, o: { all?: boolean }): Promise<void> {
  if (o.all) {
    const { kill } = await import('../../runtime/ops/kill');
    kill(g.root, id, signal, { all: true });
    return;
  }
  // The init alone (what engines send): a bundle without the cgroup code (~6 KB less to load).
  const { killInit } = await import('../../runtime/ops/signal');
  killInit(g.root, id, signal);
}
