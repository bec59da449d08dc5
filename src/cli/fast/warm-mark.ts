// Which calls may write the warm code cache (src/cli/fast/code-cache.ts): the cache keeps what the call
// compiled, and is written once. A call that exits 0 early (delete --force of a container that is not
// there, as engines send when they clean up) compiled almost nothing: were it first, every later call
// would compile the rest lazily, for good. So an action marks its call once it ran its whole path.
// A call that compiled a seccomp profile (its cache's miss) is not one: every later call finds the filter.
import { seccompCompiledHere } from '../../runtime/seccomp/compiled-here';

const REPRESENTATIVE = Symbol.for('tsrunc.code-cache.representative');
type Marked = typeof globalThis & { [REPRESENTATIVE]?: boolean };

export function markRepresentative(): void {
  (globalThis as Marked)[REPRESENTATIVE] = true;
}

export function isRepresentative(): boolean {
  return (globalThis as Marked)[REPRESENTATIVE] === true && !seccompCompiledHere();
}
