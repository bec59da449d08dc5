// Test helpers for integration tests. Importing this registers an afterAll that deletes the file's
// containers, state root and bundles.
import { afterAll, expect } from 'vitest';
import { makeBundle, type BundleOptions, type Spec } from './bundle';
import { cleanupAll } from './cleanup';
import { uniqueId } from './env';
import { tsrunc, type TsruncOptions, type TsruncResult } from './tsrunc';

export * from './bundle';
export * from './cleanup';
export * from './env';
export * from './host';
export * from './mountinfo';
export * from './tsrunc';

afterAll(cleanupAll);

/** A shell command line for process.args. */
export function sh(script: string): string[] {
  return ['sh', '-c', script];
}

export interface RunOptions extends TsruncOptions {
  id?: string;
  /** Flags of `run` before --bundle, e.g. ['--no-pivot']. */
  flags?: string[];
  /** Changes the bundle's rootfs before the run. */
  prepare?: (rootfs: string) => void;
}

/**
 * `tsrunc run` of `cmd` in a fresh bundle (spec edited by `mutate`); returns its result and removes
 * the container and bundle afterwards.
 */
export async function runContainer(mutate: BundleOptions['mutate'] | undefined, cmd: string[], opts: RunOptions = {}): Promise<TsruncResult> {
  const bundle = makeBundle({ args: cmd, mutate });
  opts.prepare?.(bundle.rootfs);
  const id = opts.id ?? uniqueId('run');
  try {
    return await tsrunc(['run', ...(opts.flags ?? []), '--bundle', bundle.dir, id], opts);
  } finally {
    await tsrunc(['delete', '--force', id], { root: opts.root }).catch(() => undefined);
    bundle.remove();
  }
}

export type { Spec };

/** runContainer that must exit 0; its stdout. */
export async function runOk(mutate: BundleOptions['mutate'] | undefined, cmd: string[], opts: RunOptions = {}): Promise<string> {
  const r = await runContainer(mutate, cmd, opts);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}
