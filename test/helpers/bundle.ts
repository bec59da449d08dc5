// Temporary OCI bundles: a copy of the run's busybox rootfs plus the default spec.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { defaultSpec } from '../../src/bundle/spec';
import { rootfsCache, runId } from './env';
import { removeTree } from './fs';

export type Spec = ReturnType<typeof defaultSpec>;

export interface BundleOptions {
  /** process.args; default: the default spec's. */
  args?: string[];
  /** Edits the spec in place, or returns a replacement. */
  mutate?: (spec: Spec) => Spec | void;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  configPath: string;
  spec: Spec;
  /** Rewrites config.json from `spec` (after a test changed it). */
  save(): void;
  remove(): void;
}

const live = new Set<Bundle>();
let localCache: string | undefined;

function pristineRootfs(): string {
  const shared = rootfsCache();
  if (shared) return shared;
  // Outside the global setup (e.g. a helper used directly): build one per process.
  if (!localCache) {
    localCache = join(mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-cache-`)), 'rootfs');
    makeBusyboxRootfs(localCache);
  }
  return localCache;
}

export function makeBundle(opts: BundleOptions = {}): Bundle {
  const dir = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-bundle-`));
  const rootfs = join(dir, 'rootfs');
  // The rootfs is ~2 MB and symlinks: a real copy keeps tests from changing the shared one.
  execFileSync('cp', ['-a', pristineRootfs(), rootfs]);
  let spec = defaultSpec(opts.args ? { args: opts.args } : {});
  if (spec.process) spec.process.terminal = false;
  spec = opts.mutate?.(spec) ?? spec;
  const configPath = join(dir, 'config.json');
  const bundle: Bundle = {
    dir,
    rootfs,
    configPath,
    spec,
    save: () => writeFileSync(configPath, JSON.stringify(bundle.spec, null, 2)),
    remove: () => {
      live.delete(bundle);
      removeTree(dir);
    },
  };
  bundle.save();
  live.add(bundle);
  return bundle;
}

/** Removes every bundle this process made, and its private rootfs cache. */
export function removeAllBundles(): void {
  for (const b of [...live]) b.remove();
  if (localCache) {
    removeTree(join(localCache, '..'));
    localCache = undefined;
  }
}
