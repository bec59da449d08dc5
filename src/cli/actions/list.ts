import type { Globals } from '../context';
import { out } from '../output';
import { list } from '../../runtime/ops/state';

export async function listAction(g: Globals, o: { format: string; quiet?: boolean }): Promise<void> {
  const all = list(g.root);
  if (o.quiet) out(all.map((c) => c.id + '\n').join(''));
  else if (o.format === 'json') out(JSON.stringify(all) + '\n');
  else if (o.format === 'table') out(table(all));
  else throw new Error(`invalid format "${o.format}"`);
}

function table(rows: Array<{ id: string; pid: number; status: string; bundle: string; created: string; owner: string }>): string {
  const cells = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]! + 3))).join('') + '\n').join('');
}
