import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';
import type { Spec } from './types';

export interface LoadedBundle {
  spec: Spec;
  /** Absolute bundle directory. */
  bundle: string;
  /** Absolute rootfs directory (root.path resolved against the bundle). */
  rootfs: string;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Read and parse `<bundleDir>/config.json`; checks only what is needed to find the rootfs. */
export function loadBundleConfig(bundleDir: string): LoadedBundle {
  const bundle = path.resolve(bundleDir);
  if (!isDir(bundle)) throw new ConfigError('bundle', `bundle directory ${bundle} does not exist`);
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError('config.json', `${file} does not exist`);
    throw new ConfigError('config.json', `cannot read ${file}: ${(e as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('config.json', `malformed JSON in ${file}: ${(e as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new ConfigError('config.json', 'the configuration must be a JSON object');
  const root = (spec as { root?: unknown }).root;
  if (typeof root !== 'object' || root === null) throw new ConfigError('root', 'missing');
  const rootPath = (root as { path?: unknown }).path;
  if (typeof rootPath !== 'string' || rootPath === '') throw new ConfigError('root.path', 'missing');
  const rootfs = path.resolve(bundle, rootPath);
  if (!isDir(rootfs)) throw new ConfigError('root.path', `rootfs directory ${rootfs} does not exist`);
  return { spec: spec as Spec, bundle, rootfs };
}
