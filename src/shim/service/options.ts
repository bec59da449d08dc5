// The shim's options: containerd.runc.v1.Options (root) or runtimeoptions.v1.Options (a config file,
// what `ctr run --runtime-config-path` and CRI's `options.ConfigPath` send for a non-runc runtime).
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../runtime/errors';
import { OptionsSchema } from '../proto/gen/containerd/runc/v1/oci_pb';

import { DEFAULT_ROOT } from './defaults';

export { DEFAULT_ROOT };

export type Grouping = 'sandbox' | 'namespace';

export interface ShimConfig {
  /** tsrunc state root (before the namespace is appended). */
  root: string;
  /** `sandbox`: one shim per io.kubernetes.cri.sandbox-id (else per container); `namespace`: one per namespace. */
  group: Grouping;
}

/** runtimeoptions.v1.Options { type_url = 1; config_path = 2; config_body = 3 } */
function decodeRuntimeOptions(bytes: Uint8Array): { configPath: string; configBody: string } {
  const r = new BinaryReader(bytes);
  const out = { configPath: '', configBody: '' };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 2) out.configPath = r.string();
    else if (field === 3) out.configBody = r.string();
    else r.skip(wire);
  }
  return out;
}

function parseConfig(text: string, where: string): Partial<ShimConfig> {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(where, `not JSON: ${(e as Error).message}`);
  }
  const cfg: Partial<ShimConfig> = {};
  if (o.root !== undefined) {
    if (typeof o.root !== 'string' || !path.isAbsolute(o.root)) throw new ConfigError(`${where}: root`, 'must be an absolute path');
    cfg.root = o.root;
  }
  if (o.group !== undefined) {
    if (o.group !== 'sandbox' && o.group !== 'namespace') throw new ConfigError(`${where}: group`, 'must be "sandbox" or "namespace"');
    cfg.group = o.group;
  }
  return cfg;
}

/** The config the options name (an absent Any: the defaults). */
export function shimConfig(options: Any | undefined): ShimConfig {
  const cfg: ShimConfig = { root: DEFAULT_ROOT, group: 'sandbox' };
  if (!options || !options.typeUrl) return cfg;
  const type = options.typeUrl.replace(/^.*\//, '');
  if (type === 'containerd.runc.v1.Options') {
    const o = fromBinary(OptionsSchema, options.value);
    if (o.root) cfg.root = o.root;
  } else if (type === 'runtimeoptions.v1.Options') {
    const o = decodeRuntimeOptions(options.value);
    if (o.configBody) Object.assign(cfg, parseConfig(o.configBody, 'options.config_body'));
    else if (o.configPath) Object.assign(cfg, parseConfig(fs.readFileSync(o.configPath, 'utf8'), o.configPath));
  }
  return cfg;
}

/** The config in the Any that containerd writes to `start`'s stdin. */
export function decodeShimConfig(bytes: Uint8Array): ShimConfig {
  return shimConfig(fromBinary(AnySchema, bytes));
}

/** The tsrunc state root of namespace `ns`. */
export function stateRoot(cfg: ShimConfig, ns: string): string {
  return path.join(cfg.root, ns);
}
