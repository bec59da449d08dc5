// The engine test harness (test/engines/harness.ts, TypeScript) for the benchmarks: bundled with esbuild (a dev
// dependency already) to a temporary module, imported, and the temporary file removed again.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The harness module (EngineEnv, ...) of the repository at `repo`. */
export async function loadEngineHarness(repo) {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-bench-harness-'));
  try {
    const file = join(dir, 'harness.mjs');
    await build({
      absWorkingDir: repo,
      entryPoints: ['test/engines/harness.ts'],
      outfile: file,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(repo, 'test/engines/harness.ts')).href) },
    });
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
