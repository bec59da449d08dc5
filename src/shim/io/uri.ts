// What a stdio string from containerd names: nothing, a fifo (or other path), a file:// log or a binary:// logger.
import { ConfigError } from '../../runtime/errors';

export type StdioTarget =
  | { kind: 'none' }
  | { kind: 'path'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'binary'; path: string; args: string[] };

/**
 * Parses one of CreateTaskRequest's stdin/stdout/stderr. Paths must be absolute and plain (no `..`),
 * as the runc shim requires of the fifos containerd makes.
 */
export function parseStdio(value: string, where: string): StdioTarget {
  if (!value) return { kind: 'none' };
  if (!value.includes('://')) return { kind: 'path', path: checkPath(value, where) };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(where, `invalid stdio URI ${JSON.stringify(value)}`);
  }
  const path = checkPath(decodeURIComponent(url.pathname), where);
  if (url.protocol === 'file:') return { kind: 'file', path };
  if (url.protocol === 'binary:') {
    // As runc's shim: each query key, then its (first) value, as arguments.
    const args: string[] = [];
    for (const k of new Set(url.searchParams.keys())) args.push(k, url.searchParams.get(k) ?? '');
    return { kind: 'binary', path, args };
  }
  if (url.protocol === 'fifo:') return { kind: 'path', path };
  throw new ConfigError(where, `unsupported stdio scheme ${url.protocol}`);
}

function checkPath(p: string, where: string): string {
  if (!p.startsWith('/')) throw new ConfigError(where, `stdio path ${JSON.stringify(p)} is not absolute`);
  if (p.split('/').includes('..')) throw new ConfigError(where, `stdio path ${JSON.stringify(p)} contains ".."`);
  if (p.includes('\0')) throw new ConfigError(where, 'stdio path contains a NUL byte');
  return p;
}
