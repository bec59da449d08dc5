import { ConfigError } from '../errors';
import { checkAbsolutePath, checkArray, checkBoolean, checkInt, checkObject, checkString, checkStringArray } from './check';
import { validateLinux, validateNamespaces } from './validate-linux';
import { validateMounts } from './validate-mounts';
import { validateProcess } from './validate-process';
import type { Spec } from './types';

export interface ValidateOptions {
  /** `create`/`run` need process.args; other users of a config may not (default true). */
  requireProcess?: boolean;
}

/** Highest runtime-spec minor version we implement (1.3.x). */
const MAX_MINOR = 3;
const HOST_NAME_MAX = 64;
const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** Check a parsed config.json; throws ConfigError naming the JSON path of the first problem. */
export function validateConfig(spec: Spec, options: ValidateOptions = {}): void {
  const s: unknown = spec;
  checkObject(s, 'config.json');
  validateVersion(s.ociVersion);
  if (s.root !== undefined) {
    checkObject(s.root, 'root');
    checkString(s.root.path, 'root.path');
    if (s.root.readonly !== undefined) checkBoolean(s.root.readonly, 'root.readonly');
  }
  if (s.process === undefined) {
    if (options.requireProcess !== false) throw new ConfigError('process', 'missing');
  } else {
    validateProcess(s.process, options.requireProcess !== false);
  }
  if (s.linux !== undefined) checkObject(s.linux, 'linux');
  const linux = (s.linux ?? {}) as Record<string, unknown>;
  const ns = validateNamespaces(linux.namespaces);
  validateName(s.hostname, 'hostname', ns.has('uts'));
  validateName(s.domainname, 'domainname', ns.has('uts'));
  validateMounts(s.mounts);
  validateHooks(s.hooks);
  if (s.annotations !== undefined) {
    checkObject(s.annotations, 'annotations');
    for (const [k, v] of Object.entries(s.annotations)) checkString(v, `annotations[${JSON.stringify(k)}]`);
  }
  validateLinux(linux, ns);
}

function validateVersion(v: unknown): void {
  if (v === undefined || v === '') throw new ConfigError('ociVersion', 'missing');
  checkString(v, 'ociVersion');
  // SemVer 1.minor.patch with an optional pre-release/build suffix (1.0.2-dev, 1.1.0-rc.1, ...).
  const m = /^1\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]+)?$/.exec(v);
  if (!m) throw new ConfigError('ociVersion', `"${v}" is not a 1.x runtime-spec version`);
  if (Number(m[1]) > MAX_MINOR) throw new ConfigError('ociVersion', `version ${v} is newer than the supported 1.${MAX_MINOR}`);
}

// The hostname is set in the container's uts namespace, new or joined (as runc does); without a uts
// entry the container shares the runtime's and the call would rename the host.
function validateName(v: unknown, where: string, hasUts: boolean): void {
  if (v === undefined) return;
  checkString(v, where);
  if (v === '') return;
  if (!hasUts) throw new ConfigError(where, `setting the ${where} needs a uts namespace (linux.namespaces has none)`);
  if (Buffer.byteLength(v) > HOST_NAME_MAX) throw new ConfigError(where, `longer than ${HOST_NAME_MAX} bytes`);
}

function validateHooks(v: unknown): void {
  if (v === undefined) return;
  checkObject(v, 'hooks');
  for (const [kind, list] of Object.entries(v)) {
    if (!HOOK_KINDS.includes(kind)) throw new ConfigError(`hooks.${kind}`, 'unknown hook kind');
    checkArray(list, `hooks.${kind}`);
    list.forEach((h, i) => {
      const at = `hooks.${kind}[${i}]`;
      checkObject(h, at);
      checkAbsolutePath(h.path, `${at}.path`);
      if (h.args !== undefined) checkStringArray(h.args, `${at}.args`);
      if (h.env !== undefined) checkStringArray(h.env, `${at}.env`);
      if (h.timeout !== undefined) {
        checkInt(h.timeout, `${at}.timeout`, -Infinity, Infinity);
        if (h.timeout <= 0) throw new ConfigError(`${at}.timeout`, 'must be greater than 0');
      }
    });
  }
}
