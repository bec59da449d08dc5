// Small type checks on parsed JSON: config.json is untrusted input, TypeScript types promise nothing.
import { ConfigError } from '../errors';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkObject(v: unknown, where: string): asserts v is Record<string, unknown> {
  if (!isObject(v)) throw new ConfigError(where, 'must be an object');
}

export function checkString(v: unknown, where: string): asserts v is string {
  if (typeof v !== 'string') throw new ConfigError(where, 'must be a string');
}

export function checkBoolean(v: unknown, where: string): asserts v is boolean {
  if (typeof v !== 'boolean') throw new ConfigError(where, 'must be a boolean');
}

export function checkArray(v: unknown, where: string): asserts v is unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(where, 'must be an array');
}

export function checkStringArray(v: unknown, where: string): asserts v is string[] {
  checkArray(v, where);
  v.forEach((s, i) => checkString(s, `${where}[${i}]`));
}

/** An integer in [min, max]. */
export function checkInt(v: unknown, where: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(where, 'must be an integer');
  if (v < min || v > max) throw new ConfigError(where, `${v} is out of range ${min}..${max}`);
}

export const U32_MAX = 0xffffffff;
/** uid_t/gid_t: (uid_t)-1 means "no change" to the kernel, so it is not a valid id. */
export const ID_MAX = U32_MAX - 1;

export function checkId(v: unknown, where: string): asserts v is number {
  checkInt(v, where, 0, ID_MAX);
}

export function checkAbsolutePath(v: unknown, where: string): asserts v is string {
  checkString(v, where);
  if (!v.startsWith('/')) throw new ConfigError(where, `path "${v}" must be absolute`);
}

/** JSON path of an object key that is not a plain identifier, e.g. linux.sysctl["net.ipv4.ip_forward"]. */
export function keyPath(where: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${where}.${key}` : `${where}[${JSON.stringify(key)}]`;
}
