import fs from 'node:fs';
import path from 'node:path';

/**
 * How the CLI entry runs a bundle of dist/lib/. A small call bundle (state, start, kill, list: ~13 KB) is
 * compiled by an indirect eval of its source, wrapped as CommonJS wraps it: `require()` of a relative
 * path runs the CJS loader's resolution (lookup paths, realpath, the package scope, module wrapping) for
 * the first time in the process, ~0.5 ms of a cold process's CPU even for an empty file, where the eval
 * costs only the compile (empty file: 0.69 -> 0.17 ms; a call bundle 1.96 -> 1.40, medians of 25). The
 * large bundles go through their V8 code cache instead (code-cache.ts). Node run with
 * --disallow-code-generation-from-strings refuses the eval: those calls take require().
 */
export const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
export const WRAP_TAIL = '\n})';

/** Runs a bundle compiled as WRAP_HEAD ... WRAP_TAIL and returns its exports. */
export function runWrapped(wrapper: (...args: unknown[]) => void, file: string): unknown {
  const module = { exports: {} as unknown };
  // The bundles require Node builtins, the addon (by absolute path) and other lib/ bundles ('./x.cjs',
  // a rare path's own bundle): relative to the bundle, not to this file.
  const dir = path.dirname(file);
  const requireHere = (id: string) => require(id.startsWith('./') ? path.join(dir, id) : id);
  wrapper.call(module.exports, module.exports, requireHere, module, file, dir);
  return module.exports;
}

export function loadEvaluated(file: string): unknown {
  const source = WRAP_HEAD + fs.readFileSync(file, 'utf8') + WRAP_TAIL + '\n//# sourceURL=' + file;
  let wrapper: (...args: unknown[]) => void;
  try {
    wrapper = (0, eval)(source);
  } catch (err) {
    if (err instanceof EvalError) return require(file);
    throw err;
  }
  return runWrapped(wrapper, file);
}
