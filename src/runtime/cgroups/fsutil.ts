// Small synchronous helpers for cgroupfs files (kernfs: no O_CREAT, some files are write-only).
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Write `value` to an existing cgroup file in one write(2), as the kernel expects. */
export function writeCgroupFile(path: string, value: string): void {
  const fd = openSync(path, constants.O_WRONLY);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

export function readCgroupFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Read a file, or undefined when it does not exist. */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** "key value" lines (cpu.stat, memory.stat, cgroup.events, ...) as a map of numbers. */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
