import { warnerFor, type Globals } from '../context';
import { deleteContainer } from '../../runtime/ops/delete';

export async function deleteAction(g: Globals, id: string, o: { force?: boolean }): Promise<void> {
  // A failed poststop hook is a warning (runtime.md): logged, and delete still succeeds.
  await deleteContainer(g.root, id, { force: o.force, warn: warnerFor(g, 'delete') });
}
