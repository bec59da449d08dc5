#!/usr/bin/env node
// Bundles the CLI entry points into single CommonJS files under dist/ (one file loads ~11 ms faster
// than an ESM module graph). Entries whose source does not exist yet are skipped, so `npm ci` (which
// runs this as `prepare`) works on a partial tree.
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Every CLI call pays for parsing what it loads: the CLI itself (commander and the command table) is one
// small file, and each operation it imports lazily is a file of its own under dist/lib/.
const LAZY = [
  ...readdirSync(join(root, 'src/runtime/ops'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ dir: 'src/runtime/ops', name: f.slice(0, -3) })),
  { dir: 'src/bundle', name: 'spec' },
  { dir: 'src/bundle', name: 'images' },
  { dir: 'src/bundle', name: 'bundles' },
  { dir: 'src/runtime', name: 'native' },
];
const entries = [
  { src: 'src/cli/main.ts', out: 'dist/tsrunc.cjs', lazy: true },
  { src: 'src/bundle/make-bundle.ts', out: 'dist/make-bundle.cjs' },
  ...LAZY.map(({ dir, name }) => ({ src: `${dir}/${name}.ts`, out: `dist/lib/${name}.cjs`, library: true })),
];

/** In the CLI bundle, `import('.../runtime/ops/x')` becomes `require('./lib/x.cjs')`. */
const lazyOps = {
  name: 'lazy-ops',
  setup(b) {
    b.onResolve({ filter: /\/(runtime\/ops|bundle|runtime)\/[a-z-]+$/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const name = args.path.split('/').pop();
      if (!LAZY.some((l) => l.name === name)) return undefined;
      return { path: `./lib/${name}.cjs`, external: true };
    });
  },
};

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
 * interop: an object whose prototype is the module gives both `.default` and the named exports.
 */
function cheapBuiltinInterop(file) {
  const code = readFileSync(file, 'utf8');
  const patched = code.replace(/__toESM\(require\("([^"]+)"\)(?:, 1)?\)/g, (all, id) =>
    isBuiltin(id) ? `{ __proto__: require("${id}"), default: require("${id}") }` : all,
  );
  if (patched !== code) writeFileSync(file, patched);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist/lib'), { recursive: true });
let failed = false;
for (const { src, out, lazy, library } of entries) {
  if (!existsSync(join(root, src))) {
    console.log(`build: skip ${src} (not present yet)`);
    continue;
  }
  try {
    await build({
      absWorkingDir: root,
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
      plugins: lazy ? [lazyOps, noChildProcessForCommander] : [],
      // import() of a lib file must stay a plain require: the ESM loader costs tens of ms to start.
      supported: { 'dynamic-import': false },
    });
    cheapBuiltinInterop(join(root, out));
    if (!library) chmodSync(join(root, out), 0o755);
    if (!library) console.log(`build: ${src} -> ${out}`);
  } catch (err) {
    failed = true;
    console.error(`build: ${src} failed: ${err instanceof Error ? err.message : err}`);
  }
}
if (failed) process.exit(1);
