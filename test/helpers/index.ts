// Test helpers for integration tests. Importing this registers an afterAll that deletes the file's
// containers, state root and bundles.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { makeBundle, type BundleOptions, type Spec } from './bundle';
import { cleanupAll } from './cleanup';
import { runId, uniqueId } from './env';
import { removeTree } from './fs';
import { tsrunc, type TsruncOptions, type TsruncResult } from './tsrunc';

export * from './bundle';
export * from './cleanup';
export * from './env';
export * from './tsrunc';

afterAll(cleanupAll);

const hostDirs: string[] = [];
afterAll(() => {
  for (const d of hostDirs.splice(0)) removeTree(d);
});

/** A host directory the test can bind into a container; removed after the file. */
export function hostDir(tag = 'host'): string {
  const d = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-${tag}-`));
  hostDirs.push(d);
  return d;
}

/** A shell command line for process.args. */
export function sh(script: string): string[] {
  return ['sh', '-c', script];
}

/**
 * `tsrunc run` of `cmd` in a fresh bundle (spec edited by `mutate`); returns its result and removes
 * the container and bundle afterwards.
 */
export async function runContainer(
  mutate: BundleOptions['mutate'] | undefined,
  cmd: string[],
  opts: TsruncOptions & { id?: string } = {},
): Promise<TsruncResult> {
  const bundle = makeBundle({ args: cmd, mutate });
  const id = opts.id ?? uniqueId('run');
  try {
    return await tsrunc(['run', '--bundle', bundle.dir, id], opts);
  } finally {
    await tsrunc(['delete', '--force', id], { root: opts.root }).catch(() => undefined);
    bundle.remove();
  }
}

export type { Spec };

/** runContainer that must exit 0; its stdout. */
export async function runOk(mutate: BundleOptions['mutate'] | undefined, cmd: string[]): Promise<string> {
  const r = await runContainer(mutate, cmd);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}
