import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { type Native, native } from '../../runtime/native';
import { readIfPresent } from '../../runtime/read-if-present';
import { runWrapped, WRAP_HEAD, WRAP_TAIL } from './bundle-load';
import { isRepresentative } from './warm-mark';

/**
 * Loading a large operation bundle (create, exec, run: 85-135 KB) is mostly V8 compiling it. The CLI
 * compiles them through vm.Script with V8's code cache:
 * - `x.cjs.cache`, made by the build (this same function with `produce`), holds only what loading the
 *   bundle compiles: its top level. V8 compiles every function lazily, on its first call.
 * - `x.cjs.warm-cache` holds everything a successful call compiled (twice the code: create ~5 ms less
 *   CPU than with the build's cache). The first call that exits 0 having run its operation's whole path
 *   (warm-mark.ts: not a delete --force of nothing) writes it, once, like Python's
 *   __pycache__: only when lib/ is ours (euid) and writable, atomically (rename); else the build's cache
 *   stays in use. The build removes dist/, so a rebuilt bundle never meets an old cache.
 * A cache that V8 rejects (other Node version or V8 flags) only costs the normal compile; a rejected warm
 * cache is made again.
 */
export function loadCached(file: string, produce = false): unknown {
  const map = produce ? undefined : mapper();
  // The build stores create, exec and run already wrapped (scripts/build.mjs): no 130 KB copy to make.
  const text = map?.(file, true) ?? fs.readFileSync(file, 'utf8');
  // the CLI maps this file as Latin-1 text (mapper); esbuild escapes non-ASCII by default
  if (produce && !/^[\x00-\x7f]*$/.test(text)) throw new Error(`${file} is not ASCII: mapped as Latin-1, it would read wrong`);
  const source = text.startsWith(WRAP_HEAD) ? text : WRAP_HEAD + text + WRAP_TAIL;
  // a read-only install may have no warm cache: asked, not thrown (read-if-present.ts)
  const bytes = (f: string) => map?.(f, false) ?? readIfPresent(f);
  const warm = produce ? undefined : bytes(file + '.warm-cache');
  const cachedData = produce ? undefined : (warm ?? bytes(file + '.cache'));
  const script = new vm.Script(source, { filename: file, cachedData });
  const exports = runWrapped(script.runInThisContext() as (...args: unknown[]) => void, file);
  if (produce) fs.writeFileSync(file + '.cache', script.createCachedData());
  else if (!warm || script.cachedDataRejected) process.once('exit', (code) => code === 0 && isRepresentative() && writeWarm(file, script));
  return exports;
}

/**
 * The addon's mapFile: the source and cache mapped, not read into the heap (create 134 + 178 KB: ~2 ms
 * of a cold process's CPU in isolation, mostly faulting in fresh pages; native/addon/mapfile.c). Every
 * call that loads these bundles loads the addon anyway. The bundles are ASCII (`produce` checks), so a
 * Latin-1 string is their text. Without the addon (the build making the caches): fs reads.
 */
function mapper(): Native['mapFile'] | undefined {
  try {
    return native().mapFile;
  } catch {
    return undefined;
  }
}

function writeWarm(file: string, script: vm.Script): void {
  const dir = path.dirname(file);
  const tmp = `${file}.warm-cache.${process.pid}`;
  try {
    const st = fs.statSync(dir);
    if (st.uid !== process.geteuid?.() || st.mode & 0o022) return;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644, flag: 'wx' });
    fs.renameSync(tmp, file + '.warm-cache');
  } catch {
    // read-only or someone else's install: the build's cache stays in use
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never made
    }
  }
}
