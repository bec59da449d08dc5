// Whether this process compiled a seccomp profile (a miss of cache.ts), for the CLI's warm code cache
// (src/cli/fast/warm-mark.ts): a cache made then would carry the compiler (~40 KB of create's 178) into
// every later call, which finds its filter cached. On globalThis: each bundle inlines its own copy of
// cache.ts (run's operation is one bundle, its command another).
const COMPILED = Symbol.for('tsrunc.seccomp.compiled-here');
type Marked = typeof globalThis & { [COMPILED]?: boolean };

export function markSeccompCompiled(): void {
  (globalThis as Marked)[COMPILED] = true;
}

export function seccompCompiledHere(): boolean {
  return (globalThis as Marked)[COMPILED] === true;
}
