// `delete`: containerd cannot reach the shim (it died): clean up what is left of the container
// (cleanup.ts) and print a DeleteResponse. containerd also calls this after every normal Delete (when it
// closes its connection), so the common case, nothing left, loads nothing heavy.
import { encodeDeleteResponse } from '../proto/delete-response';
import { cleanUpAfterDeadShim } from './cleanup';
import type { ShimFlags } from './flags';

export async function deleteCommand(f: ShimFlags): Promise<number> {
  const { pid } = await cleanUpAfterDeadShim({
    namespace: f.namespace,
    id: f.id,
    bundle: f.bundle || process.cwd(),
    warn: (w) => process.stderr.write(`${w}\n`),
  });
  process.stdout.write(encodeDeleteResponse({ pid, exitStatus: 128 + 9, exitedAt: new Date() }));
  return 0;
}
