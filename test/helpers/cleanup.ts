// Removes what a test file created: containers in its state root, the root itself, its bundles.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeAllBundles } from './bundle';
import { forgetTestRoot, testRootIfMade } from './env';
import { removeTree } from './fs';
import { tsrunc } from './tsrunc';

/** `delete --force` every container in `root`; SIGKILLs an init that survives, as a last resort. */
export async function deleteAllContainers(root: string): Promise<void> {
  if (!existsSync(root)) return;
  for (const id of readdirSync(root)) {
    const dir = join(root, id);
    await tsrunc(['delete', '--force', id], { root, timeout: 10_000 }).catch(() => undefined);
    if (!existsSync(dir)) continue;
    try {
      const { pid } = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pid?: number };
      if (pid && pid > 1) process.kill(pid, 'SIGKILL');
    } catch {
      // no state or already gone
    }
  }
}

/** Everything this test file made; registered as afterAll by test/helpers/index.ts. */
export async function cleanupAll(): Promise<void> {
  const root = testRootIfMade();
  if (root) {
    await deleteAllContainers(root);
    removeTree(root);
    forgetTestRoot();
  }
  removeAllBundles();
}
