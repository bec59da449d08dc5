// Paths of tar entries, made safe to create under a root directory that only this process writes to:
// the entry name is normalised to components below the root (a leading "/" is dropped, "." is ignored,
// ".." is refused), and every parent is checked with lstat to be a real directory, never a symlink, so
// no entry (nor a hardlink target) can reach outside the root through a symlink made by an earlier entry.
import { lstatSync, mkdirSync } from 'node:fs';

export class EscapeError extends Error {}

/** The entry's components below the root; throws EscapeError for a ".." component. */
export function entryComponents(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new EscapeError(`entry path "${name}" leaves the layer ("..")`);
  return parts;
}

export class SafeRoot {
  /** Relative directories already known to be real directories (created or checked). */
  private dirs = new Set<string>(['']);

  constructor(readonly root: string) {}

  /** Makes (or checks) every parent of `parts` as a real directory; returns the absolute path of `parts`. */
  prepare(parts: string[], what: string): string {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i]!;
      if (this.dirs.has(rel)) continue;
      const abs = `${this.root}/${rel}`;
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st) mkdirSync(abs, { mode: 0o755 });
      else if (!st.isDirectory()) throw new EscapeError(`${what}: parent "${rel}" is not a directory (a symlink?)`);
      this.dirs.add(rel);
    }
    return parts.length ? `${this.root}/${parts.join('/')}` : this.root;
  }

  /** A path that is about to be replaced by a non-directory is no longer a known directory. */
  forget(parts: string[]): void {
    const rel = parts.join('/');
    // Only a known directory (and so its known subdirectories) can be affected.
    if (!this.dirs.has(rel)) return;
    for (const d of this.dirs) if (d === rel || d.startsWith(rel + '/')) this.dirs.delete(d);
  }

  markDir(parts: string[]): void {
    this.dirs.add(parts.join('/'));
  }
}
