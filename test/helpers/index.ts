// Test helpers for integration tests. Importing this registers an afterAll that deletes the file's
// containers, state root and bundles.
import { afterAll } from 'vitest';
import { makeBundle, type BundleOptions, type Spec } from './bundle';
import { cleanupAll } from './cleanup';
import { uniqueId } from './env';
import { tsrunc, type TsruncOptions, type TsruncResult } from './tsrunc';

export * from './bundle';
export * from './cleanup';
export * from './env';
export * from './tsrunc';

afterAll(cleanupAll);

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
