import fs from 'node:fs';
import path from 'node:path';

/**
 * Removes a container's state directory. It holds only files (state.json, the start socket), so a flat
 * unlink + rmdir does it; fs.rmSync would load its recursive remover and option checks (~0.5 ms a
 * call). Anything else (a subdirectory) falls back to rmSync.
 */
export function removeStateDir(dir: string): void {
  try {
    for (const name of fs.readdirSync(dir)) fs.unlinkSync(path.join(dir, name));
    fs.rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Unlinks a file that may already be gone. */
export function unlinkIfPresent(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
