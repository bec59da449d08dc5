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

/** runc's layout (Go's tabwriter, minwidth 12, padding 3): a column is max(12, its widest cell + 3) wide. */
function table(rows: Array<{ id: string; pid: number; status: string; bundle: string; created: string; owner: string }>): string {
  const cells = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
  const widths = cells[0]!.map((_, i) => Math.max(12, ...cells.map((c) => c[i]!.length + 3)));
  return cells.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('') + '\n').join('');
}
