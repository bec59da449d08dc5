import fs from 'node:fs';

/**
 * A file's contents (text with `encoding`), or undefined when it cannot be read. For files that are
 * usually absent on the path that reads them: absence is asked about (existsSync) rather than thrown,
 * because a short call's first thrown fs error costs ~0.7 ms here (Node builds its error machinery on
 * first use). A file that goes in between, or cannot be read, is still caught.
 */
export function readIfPresent(file: string): Buffer | undefined;
export function readIfPresent(file: string, encoding: BufferEncoding): string | undefined;
export function readIfPresent(file: string, encoding?: BufferEncoding): Buffer | string | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return fs.readFileSync(file, encoding);
  } catch {
    return undefined;
  }
}

export function readTextIfPresent(file: string): string | undefined {
  return readIfPresent(file, 'utf8');
}
