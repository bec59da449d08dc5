#!/usr/bin/env node
// exec latency: `exec <id> /bin/true` into a running container, tsrunc vs runc (vs crun), interleaved.
//   node bench/exec.mjs [--iterations N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEnv, timed } from './lib/proc.mjs';
import { cleanupRuntime, cmd, prepareBundles, runtimeDefs } from './lib/runtimes.mjs';
import { fmt, median, table } from './lib/stats.mjs';
import { enterBenchNamespace } from './lib/namespace.mjs';

const { values: opts } = parseArgs({ options: { iterations: { type: 'string', default: '20' } } });
enterBenchNamespace(import.meta.url);

const N = Number(opts.iterations);
const runtimes = runtimeDefs().filter((d) => d.argv);
const workDir = mkdtempSync(join(tmpdir(), 'tsrunc-bench-exec-'));
const samples = Object.fromEntries(runtimes.map((rt) => [rt.name, []]));
let failed = false;
try {
  prepareBundles(workDir, runtimes, { args: ['sleep', '600'] });
  for (const rt of runtimes) {
    const r = spawnSync(cmd(rt)[0], [...cmd(rt, 'run', '-d', '--bundle', rt.bundle, 'exec-bench').slice(1)], { env: benchEnv(), stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${rt.name} run -d failed`);
  }
  for (let i = 0; i < N; i++) for (const rt of runtimes) samples[rt.name].push(timed(cmd(rt, 'exec', 'exec-bench', '/bin/true')));
} catch (err) {
  failed = true;
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
} finally {
  for (const rt of runtimes) cleanupRuntime(rt);
  rmSync(workDir, { recursive: true, force: true });
}

const med = Object.fromEntries(runtimes.map((rt) => [rt.name, median(samples[rt.name])]));
console.log(`exec of /bin/true into a running container: medians of ${N} interleaved rounds (ms)`);
console.log(table(['runtime', 'exec'], runtimes.map((rt) => [rt.name, fmt(med[rt.name])])));
if (med.tsrunc && med.runc) console.log(`ratio tsrunc/runc: ${fmt(med.tsrunc / med.runc, 2)}x`);
process.exitCode = failed ? 1 : 0;
