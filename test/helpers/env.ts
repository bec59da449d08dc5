// Paths and identities shared by the test helpers.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { STATE_PARENT, STATE_PREFIX } from '../setup/leaks';

export { childEnv, REPO, TSRUNC_CJS, uniqueId } from './base';

function provided<K extends 'tsruncRunId' | 'tsruncRootfsCache'>(key: K): string | undefined {
  try {
    return inject(key) || undefined;
  } catch {
    return undefined; // not inside a vitest worker
  }
}

let runIdValue: string | undefined;
/** Unique per test run (from the global setup), else per process. */
export function runId(): string {
  runIdValue ??= provided('tsruncRunId') ?? process.env.TSRUNC_TEST_RUN_ID ?? randomBytes(4).toString('hex');
  return runIdValue;
}

/** The shared pristine rootfs built by the global setup, if there is one. */
export function rootfsCache(): string | undefined {
  return provided('tsruncRootfsCache') ?? process.env.TSRUNC_TEST_ROOTFS_CACHE;
}

let rootValue: string | undefined;
/** This test file's state root, /run/tsrunc-test-<run>-<random>, made on first use. */
export function testRoot(): string {
  if (!rootValue) {
    rootValue = join(STATE_PARENT, `${STATE_PREFIX}-${runId()}-${randomBytes(3).toString('hex')}`);
    mkdirSync(rootValue, { mode: 0o700 });
  }
  return rootValue;
}

/** Whether testRoot() was made (cleanup has nothing to do otherwise). */
export function testRootIfMade(): string | undefined {
  return rootValue;
}

export function forgetTestRoot(): void {
  rootValue = undefined;
}
