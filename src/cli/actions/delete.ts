import fs from 'node:fs';
import path from 'node:path';
import { warnerFor, type Globals } from '../context';
import { markRepresentative } from '../fast/warm-mark';
import { deleteContainer } from '../../runtime/ops/delete';

export async function deleteAction(g: Globals, id: string, o: { force?: boolean }): Promise<void> {
  // Only a delete that found its container runs the whole path (what the warm code cache should hold).
  const found = fs.existsSync(path.join(g.root, id));
  // A failed poststop hook is a warning (runtime.md): logged, and delete still succeeds.
  await deleteContainer(g.root, id, { force: o.force, warn: warnerFor(g, 'delete') });
  if (found) markRepresentative();
}
