// Global setup: builds the busybox rootfs once per run and, at teardown, fails the run if anything a
// container runtime could leak (mounts, cgroups, processes, state dirs) is left on the host.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { leaksSince, readMountinfo, snapshot } from './leaks';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A pristine busybox rootfs; copy it, never change it. */
    tsruncRootfsCache: string;
    /** Unique per run; part of every state root and temp dir name. */
    tsruncRunId: string;
  }
}

// Node starts 40 ms faster without it; every child of this process inherits the deletion.
delete process.env.NODE_EXTRA_CA_CERTS;

export default function setup(project: TestProject): () => Promise<void> {
  const before = snapshot();
  const runId = randomBytes(4).toString('hex');
  const cacheDir = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId}-cache-`));
  const rootfs = join(cacheDir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  project.provide('tsruncRootfsCache', rootfs);
  project.provide('tsruncRunId', runId);
  process.env.TSRUNC_TEST_RUN_ID = runId;
  process.env.TSRUNC_TEST_ROOTFS_CACHE = rootfs;

  return async () => {
    // Never recurse into a mount point: a leaked bind mount could expose host files to rm.
    if (!readMountinfo().some((m) => m.mountPoint.startsWith(cacheDir))) rmSync(cacheDir, { recursive: true, force: true });
    // Killed containers may take a moment to be reaped.
    let leaks = leaksSince(before);
    for (let i = 0; i < 30 && leaks.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      leaks = leaksSince(before);
    }
    if (leaks.length > 0) {
      throw new Error(`tests left ${leaks.length} thing(s) behind:\n  ${leaks.join('\n  ')}`);
    }
  };
}
