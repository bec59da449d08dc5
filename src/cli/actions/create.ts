import { warnerFor, type Globals } from '../context';
import { create } from '../../runtime/ops/create';
import { createArgs, type CreateFlags } from './create-args';
import { markRepresentative } from '../fast/warm-mark';

export async function createAction(g: Globals, id: string, o: CreateFlags): Promise<void> {
  await create({ ...createArgs(g, id, o), warn: warnerFor(g, 'create') });
  markRepresentative();
}
