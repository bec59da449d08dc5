import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

/**
 * Loading a large operation bundle (create, exec, run: 75-115 KB) is mostly V8 compiling it. The build
 * stores V8's code cache next to each (`x.cjs.cache`, made by this same function with `produce`), and
 * the CLI compiles through vm.Script with it: ~1.5 ms less per create on an idle machine. Small bundles
 * (state, start, kill, delete) gain nothing and load with plain require. A cache that V8 rejects (other
 * Node version, stale file) only costs the normal compile.
 */
const HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const TAIL = '\n})';

export function loadCached(file: string, produce = false): unknown {
  const source = HEAD + fs.readFileSync(file, 'utf8') + TAIL;
  let cachedData: Buffer | undefined;
  if (!produce) {
    try {
      cachedData = fs.readFileSync(file + '.cache');
    } catch {
      // no cache: compile as usual
    }
  }
  const script = new vm.Script(source, { filename: file, cachedData });
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as unknown };
  // The bundles require only Node builtins and the addon (by absolute path): this require does.
  wrapper.call(module.exports, module.exports, require, module, file, path.dirname(file));
  if (produce) fs.writeFileSync(file + '.cache', script.createCachedData());
  return module.exports;
}

/** dist/lib/<name>.cjs through its code cache (__dirname: dist/, where the CLI bundle is). */
export function loadLib(name: string): unknown {
  return loadCached(path.join(__dirname, 'lib', `${name}.cjs`));
}
