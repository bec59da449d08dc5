import { getSystemErrorName } from 'node:util';

/** An error the user caused (bad config or call); `where` is the JSON path or argument it concerns. */
export class ConfigError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'ConfigError';
  }
}

/** Any failure of a runtime operation, with the operation name for the one-line CLI message. */
export class RuntimeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

const GENERIC_ERRNO = ['x64', 'arm64', 'arm', 'ia32', 'riscv64', 'ppc64', 's390x', 'loong64'].includes(process.arch);
const COMMON_ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 8: 'ENOEXEC', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV', 20: 'ENOTDIR',
  22: 'EINVAL', 39: 'ENOTEMPTY', 40: 'ELOOP',
};

/** The errno name of a Node error (its code) or of an addon error (its number: `errno`). */
export function errnoCode(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (err?.code) return err.code;
  // addon errors carry the number only (node:util is loaded at start-up already; node:os is not: ~0.4 ms)
  if (typeof err?.errno !== 'number' || err.errno <= 0) return undefined;
  // The common ones without getSystemErrorName, whose first call builds libuv's whole error map (~0.3 ms,
  // and delete hit it on every call): numbers of the generic Linux errno table, not mips/sparc/alpha's.
  if (GENERIC_ERRNO && err.errno in COMMON_ERRNO) return COMMON_ERRNO[err.errno];
  const name = getSystemErrorName(-err.errno);
  return name.startsWith('E') ? name : undefined;
}
