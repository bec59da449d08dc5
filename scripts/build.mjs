#!/usr/bin/env node
// Bundles the CLI entry points into single CommonJS files under dist/ (one file loads ~11 ms faster
// than an ESM module graph). Entries whose source does not exist yet are skipped, so `npm ci` (which
// runs this as `prepare`) works on a partial tree.
import { build, transform } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protoHydratePlugin } from './lib/proto-hydrate.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Every CLI call pays for parsing what it loads: the CLI entry (the fast parser for engines' hot calls)
// is one small file; commander's full CLI (dist/lib/full.cjs) and each operation are files of their own
// under dist/lib/, loaded when a call needs them.
const LAZY = [
  ...readdirSync(join(root, 'src/runtime/ops'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ dir: 'src/runtime/ops', name: f.slice(0, -3) })),
  { dir: 'src/bundle', name: 'spec' },
  { dir: 'src/bundle', name: 'images' },
  { dir: 'src/bundle', name: 'bundles' },
  { dir: 'src/runtime', name: 'native' },
  // the paused check (cgroup code): `start` needs it only to word its error
  { dir: 'src/runtime/state', name: 'container-status' },
  { dir: 'src/cli', name: 'full' },
  // The entry's hot calls: each call's action with its operation inlined (CALL_OPS), one file to load.
  ...readdirSync(join(root, 'src/cli/calls'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ dir: 'src/cli/calls', name: f.slice(0, -3) })),
];
/** The operations a call bundle holds itself rather than loading them from lib/ (scripts: LAZY). */
const CALL_OPS = {
  'call-state': ['state'],
  'call-list': ['state'],
  'call-start': ['start'],
  'call-kill': ['signal'],
  'call-delete': ['delete'],
  'call-create': ['create'],
  'call-exec': ['exec'],
};
const entries = [
  // lean: the entry of every CLI call may hold only our own small modules (a dependency such as
  // commander, pulled in through one value import, cost each call ~5 ms unnoticed); the build fails instead.
  { src: 'src/cli/main.ts', out: 'dist/tsrunc.cjs', lazy: './lib/', lean: true },
  { src: 'src/bundle/make-bundle.ts', out: 'dist/make-bundle.cjs' },
  // containerd's runtime v2 shim; dist/containerd-shim-tsrunc-v2 (a symlink) is the name containerd looks for.
  // proto: generated descriptors embedded as JSON, decoded at build time (scripts/lib/proto-hydrate.mjs).
  { src: 'src/shim/main.ts', out: 'dist/containerd-shim-tsrunc-v2.cjs', link: 'dist/containerd-shim-tsrunc-v2', proto: true },
  // Its actions, loaded by name: `start` and `delete` (once per container each) parse only themselves.
  { src: 'src/shim/service/cmd-start.ts', out: 'dist/shim-start.cjs', library: true, lazy: './lib/', proto: true },
  { src: 'src/shim/service/cmd-delete.ts', out: 'dist/shim-delete.cjs', library: true, lazy: './lib/', proto: true },
  { src: 'src/shim/service/daemon.ts', out: 'dist/shim-daemon.cjs', library: true, proto: true },
  { src: 'src/shim/service/options.ts', out: 'dist/shim-options.cjs', library: true, proto: true },
  ...LAZY.map(({ dir, name }) => ({
    src: `${dir}/${name}.ts`,
    out: `dist/lib/${name}.cjs`,
    library: true,
    // commander's CLI, the calls and the operations load other operations (a rare path's own bundle)
    // from lib/ too
    lazy: dir === 'src/cli' || dir === 'src/cli/calls' || dir === 'src/runtime/ops' ? './' : undefined,
    inline: CALL_OPS[name],
  })),
  // The package's public API (`import { create } from 'tsrunc'`): the runtime library in one file.
  { src: 'src/runtime/index.ts', out: 'dist/index.cjs', library: true },
];

// The large operation bundles: the CLI entry compiles them with V8's code cache (src/cli/fast/code-cache.ts).
// delete (22 KB) too: its warm cache spares every function it calls a lazy compile, ~0.9 ms own CPU of
// its ~4.3 (bench/startup.mjs --own, 60 rounds); start (17 KB) gained nothing and is left out.
const CODE_CACHED = ['create', 'exec', 'run', 'delete', 'call-create', 'call-exec', 'call-delete'];
const CODE_CACHE_SRC = join(root, 'src/cli/fast/code-cache.ts');
const BUNDLE_LOAD_SRC = join(root, 'src/cli/fast/bundle-load.ts');

/**
 * In a CLI bundle, `import('.../runtime/ops/x')` becomes `require('<dir>x.cjs')` (dir: where lib/ is);
 * in the entry bundle, the CODE_CACHED ones load through their code cache, the others by eval.
 */
const lazyOps = (dir, inline = []) => ({
  name: 'lazy-ops',
  setup(b) {
    b.onResolve({ filter: /\/(runtime\/ops|bundle|runtime|cli|calls|state)\/[a-z-]+$|^\.\.?\/[a-z-]+$/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const name = args.path.split('/').pop();
      if (!LAZY.some((l) => l.name === name) || inline.includes(name)) return undefined;
      // Stored wrapped (see wrapForCodeCache): loadable only through the code cache's loader.
      if (CODE_CACHED.includes(name)) return { path: name, namespace: 'code-cached' };
      // The entry runs the others through an indirect eval: no require() resolution (bundle-load.ts).
      if (dir === './lib/') return { path: name, namespace: 'evaluated' };
      return { path: `${dir}${name}.cjs`, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'evaluated' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(BUNDLE_LOAD_SRC)}).loadEvaluated(__dirname + ${JSON.stringify(`/lib/${args.path}.cjs`)});`,
      resolveDir: root,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'code-cached' }, (args) => ({
      // In the entry too: a loader file of its own cost create, exec and delete a file load (~0.5 ms own
      // CPU, 60 interleaved rounds), its ~1 KB in the entry the other calls ~0.1 ms of parsing.
      contents:
        dir === './lib/'
          ? `module.exports = require(${JSON.stringify(CODE_CACHE_SRC)}).loadCached(__dirname + ${JSON.stringify(`/lib/${args.path}.cjs`)});`
          : `module.exports = require(${JSON.stringify(CODE_CACHE_SRC)}).loadCached(require("node:path").join(__dirname, ${JSON.stringify(`${dir}${args.path}.cjs`)}));`,
      resolveDir: root,
      loader: 'js',
    }));
  },
});

/** Commander's child_process import (unused by us) is replaced by a stub that throws if ever used. */
const noChildProcessForCommander = {
  name: 'no-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('node_modules/commander/') ? { path: join(root, 'scripts/stubs/child_process.cjs') } : undefined,
    );
  },
};


/**
 * esbuild turns `import fs from 'node:fs'` into __toESM(require('node:fs')), which copies every export
 * (and so runs getters such as fs.promises, loading more modules): ~2 ms per call. A builtin needs no
 * interop: an object whose prototype is the module gives both `.default` and the named exports. Each
 * bundled module imports its builtins anew, and a require() of a builtin costs ~5 us here (create's
 * bundle made 75 of them): one object per builtin, made on first use (a lazily run module's import
 * stays lazy), serves the whole file. Every builtin comes from process.getBuiltinModule (Node >= 20.16),
 * not require(): a cold process's first require() of a builtin cost ~0.16 ms and each further one
 * ~0.06, against 0.07 and 0.01 (CJS's Module._load and its checks run for each).
 */
function cheapBuiltinInterop(file) {
  const code = readFileSync(file, 'utf8');
  // (`,1` or `, 1`: minified or not)
  const patched = code
    .replace(/__toESM\(require\("([^"]+)"\)(?:, ?1)?\)/g, (all, id) => (isBuiltin(id) ? `${BUILTIN_FN}("${id}")` : all))
    // named imports (`import { readFileSync } from 'node:fs'`) are a plain require
    .replace(/\brequire\("([^"]+)"\)/g, (all, id) => (isBuiltin(id) ? `process.getBuiltinModule("${id}")` : all));
  if (patched === code) return;
  // after the shebang and the "use strict" prologue, which must stay first
  const prologue = /^(#![^\n]*\n)?("use strict";\n?)?/.exec(patched)[0];
  const helper = `var ${BUILTIN_FN}=(c=>i=>c[i]??=(m=>({__proto__:m,default:m}))(process.getBuiltinModule(i)))({});\n`;
  writeFileSync(file, prologue + helper + patched.slice(prologue.length));
}
const BUILTIN_FN = '__tsruncBuiltin';

/**
 * The CLI's files are parsed on every call (~50 us of CPU per KB here), so their local names are
 * minified too: entry + op bundle ~30% smaller (kill 34 -> 25 KB), ~0.4 ms a call. A second pass, after
 * cheapBuiltinInterop, which needs esbuild's helper names; exported names and strings stay as they are.
 * The cost: --debug stack traces name minified functions (files and messages are unchanged).
 */
async function minifyNames(file) {
  const { code } = await transform(readFileSync(file, 'utf8'), { minify: true, format: 'cjs', target: 'node20', loader: 'js', legalComments: 'none' });
  writeFileSync(file, code);
}
const cliFile = (out) => out === 'dist/tsrunc.cjs' || out.startsWith('dist/lib/');

/** The code cache's loader as a file of its own, run by the build to make each `.cache` (`produce`). */
async function buildCodeCacheTool(out) {
  const tool = join(root, out);
  await build({
    absWorkingDir: root,
    entryPoints: [CODE_CACHE_SRC],
    outfile: tool,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    external: ['*.node'],
    logOverride: { 'empty-import-meta': 'silent' },
    define: { TSRUNC_PACKAGE_UP: JSON.stringify(relative(dirname(tool), root)) },
  });
  return tool;
}

/**
 * A code-cached bundle is stored as the function expression the loader compiles (src/cli/fast/
 * code-cache.ts), so the source it reads is the script itself: wrapping it at run time made V8 flatten
 * a second copy of the 130 KB string (create: a load 3.4 instead of 4.1 ms, median of 20).
 */
function wrapForCodeCache(file) {
  writeFileSync(file, CODE_CACHE_HEAD + readFileSync(file, 'utf8') + CODE_CACHE_TAIL);
}
const CODE_CACHE_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const CODE_CACHE_TAIL = '\n})';

rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist/lib'), { recursive: true });
// Node (20.19) reads the package.json nearest to the main file after loading it, even a .cjs one; the
// package's own (exports, scripts, "type": "module") cost every CLI call ~0.27 ms (own CPU, 50
// interleaved runs). This one ends the lookup in dist/ and says what every file there is anyway.
writeFileSync(join(root, 'dist/package.json'), '{"type":"commonjs"}\n');
let failed = false;
const HYDRATE = join(root, 'src/shim/proto/hydrate.ts');
for (const { src, out, lazy, library, link, lean, proto, inline } of entries) {
  if (!existsSync(join(root, src))) {
    console.log(`build: skip ${src} (not present yet)`);
    continue;
  }
  try {
    const result = await build({
      absWorkingDir: root,
      metafile: !!lean,
      entryPoints: [src],
      outfile: out,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      minifyWhitespace: true,
      minifySyntax: true,
      treeShaking: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'warning',
      // The addon is found at run time by path and loaded with require().
      external: ['*.node'],
      // Sources use __dirname when it exists (src/runtime/native.ts); import.meta stays empty in CommonJS.
      logOverride: { 'empty-import-meta': 'silent' },
      banner: library ? {} : { js: '#!/usr/bin/env node' },
      // where the package root is from this bundle (src/runtime/native.ts: packageRoot)
      define: { TSRUNC_PACKAGE_UP: JSON.stringify(relative(dirname(join(root, out)), root) || '.') },
      plugins: [...(lazy ? [lazyOps(lazy, inline), noChildProcessForCommander] : []), ...(proto ? [protoHydratePlugin(HYDRATE)] : [])],
      // import() of a lib file must stay a plain require: the ESM loader costs tens of ms to start.
      supported: { 'dynamic-import': false },
    });
    if (lean) {
      const deps = Object.keys(result.metafile.inputs).filter((f) => f.includes('node_modules/'));
      if (deps.length) throw new Error(`${out} must not bundle dependencies (lazy-load them): ${deps.join(', ')}`);
    }
    // A lazily required module that imports protobuf makes esbuild initialise every module it reaches,
    // descriptor.proto's boot (~20 ms) with them: the shim's bundles must not have it (src/shim/README.md).
    if (proto && readFileSync(join(root, out), 'utf8').includes('google/protobuf/descriptor.proto'))
      throw new Error(`${out} boots descriptor.proto at load (a lazy require of a module importing protobuf?)`);
    cheapBuiltinInterop(join(root, out));
    // The code-cached bundles are not minified: under 128 KB their source becomes a young-generation
    // string, and create's scavenge came back (ARCHITECTURE.md, Start-up).
    if (out.startsWith('dist/lib/') && CODE_CACHED.includes(basename(out, '.cjs'))) wrapForCodeCache(join(root, out));
    // TSRUNC_BUILD_NAMES=1 keeps the names (for a readable --cpu-prof)
    else if (cliFile(out) && !process.env.TSRUNC_BUILD_NAMES) await minifyNames(join(root, out));
    if (!library) chmodSync(join(root, out), 0o755);
    // Node picks CommonJS by the real path's .cjs, so the extensionless name can be a symlink.
    if (link) symlinkSync(basename(out), join(root, link));
    if (!library) console.log(`build: ${src} -> ${out}`);
  } catch (err) {
    failed = true;
    console.error(`build: ${src} failed: ${err instanceof Error ? err.message : err}`);
  }
}
if (!failed) {
  // The code caches, made by the loader itself in a child with a clean environment (V8 rejects a cache
  // made under other flags; NODE_OPTIONS would change them).
  const tool = await buildCodeCacheTool('dist/.code-cache-tool.cjs');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  for (const name of CODE_CACHED) {
    const file = join(root, 'dist/lib', `${name}.cjs`);
    if (!existsSync(file)) continue;
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(tool)}).loadCached(${JSON.stringify(file)}, true)`], { env, stdio: 'inherit' });
    if (r.status !== 0) {
      failed = true;
      console.error(`build: code cache for ${file} failed`);
    }
  }
  rmSync(tool, { force: true });
}
if (!failed && !(await buildShimExtras())) failed = true;
if (failed) process.exit(1);

/**
 * The shim binary containerd runs (dist/containerd-shim-tsrunc-v2): the static C launcher from node-gyp
 * (native/shimlaunch/) when it was built, else the symlink to the Node shim made above, which does
 * everything itself. The launcher execs Node as dist/shim-js/containerd-shim-tsrunc-v2 (a symlink, so
 * the processes keep the shim's name), and the server compiles from a code cache made under the V8
 * flags the launcher gives it.
 */
async function buildShimExtras() {
  const main = join(root, 'dist/containerd-shim-tsrunc-v2.cjs');
  if (!existsSync(main)) return true;
  mkdirSync(join(root, 'dist/shim-js'), { recursive: true });
  symlinkSync('../containerd-shim-tsrunc-v2.cjs', join(root, 'dist/shim-js/containerd-shim-tsrunc-v2'));
  const launcher = join(root, 'build/Release/containerd-shim-tsrunc-v2');
  if (existsSync(launcher)) {
    const bin = join(root, 'dist/containerd-shim-tsrunc-v2');
    rmSync(bin, { force: true });
    copyFileSync(launcher, bin);
    chmodSync(bin, 0o755);
    console.log('build: build/Release/containerd-shim-tsrunc-v2 -> dist/containerd-shim-tsrunc-v2 (launcher)');
  } else {
    console.log('build: no shim launcher built (node-gyp): dist/containerd-shim-tsrunc-v2 is the Node shim');
  }
  const daemon = join(root, 'dist/shim-daemon.cjs');
  if (!existsSync(daemon)) return true;
  const tool = await buildCodeCacheTool('dist/.shim-code-cache-tool.cjs');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  // The V8 flags must be the server's: none (native/shimlaunch/start.c, src/shim/service/cmd-start.ts).
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(tool)}).loadCached(${JSON.stringify(daemon)}, true)`], { env, stdio: 'inherit' });
  rmSync(tool, { force: true });
  if (r.status !== 0) console.error(`build: code cache for ${daemon} failed`);
  return r.status === 0;
}
