#!/usr/bin/env node
// exec latency: `exec <id> /bin/true` into a running container, tsrunc vs runc (vs crun), each runtime's
// container from its own bundle, in one run with the order rotated every round; Node's own start
// (`node -e 0`) is the floor any tsrunc call pays.
//   node bench/exec.mjs [--iterations N] [--json FILE]
// Runs in a private mount namespace with cgroup2 mounted on /sys/fs/cgroup, so no runtime touches
// the host's cgroup v1 hierarchies.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnCapture, timed } from './lib/proc.mjs';
import { cleanupBench, cmd, prepareBundles, runtimeDefs } from './lib/runtimes.mjs';
import { fmt, median, table } from './lib/stats.mjs';
import { enterBenchNamespace } from './lib/namespace.mjs';

const { values: opts } = parseArgs({ options: { iterations: { type: 'string', default: '20' }, json: { type: 'string' } } });
enterBenchNamespace(import.meta.url);

const N = Number(opts.iterations);
const defs = runtimeDefs();
for (const d of defs) if (!d.argv) console.error(`bench: ${d.name} not found, skipped`);
const runtimes = defs.filter((d) => d.argv);
const FLOOR = 'node -e 0';
const workDir = mkdtempSync(join(tmpdir(), 'tsrunc-bench-exec-'));
const samples = Object.fromEntries([...runtimes.map((rt) => rt.name), FLOOR].map((n) => [n, []]));
let failed = false;
try {
  prepareBundles(workDir, runtimes, { args: ['sleep', '600'] });
  for (const rt of runtimes) {
    // Not a pipe for stderr: the container keeps the runtime's stdio, so a pipe would not close for 600 s.
    const r = spawnCapture(cmd(rt)[0], cmd(rt, 'run', '-d', '--bundle', rt.bundle, 'exec-bench').slice(1));
    if (r.status !== 0) throw new Error(`${rt.name} run -d failed: ${r.stderr.trim()}`);
  }
  // One untimed exec each: page cache and lazily loaded files are warm for every runtime alike.
  for (const rt of runtimes) timed(cmd(rt, 'exec', 'exec-bench', '/bin/true'));
  const order = [...runtimes.map((rt) => () => samples[rt.name].push(timed(cmd(rt, 'exec', 'exec-bench', '/bin/true')))), () => samples[FLOOR].push(timed([process.execPath, '-e', '0']))];
  for (let i = 0; i < N; i++) {
    const shift = i % order.length;
    for (const f of [...order.slice(shift), ...order.slice(0, shift)]) f();
  }
} catch (err) {
  failed = true;
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
} finally {
  cleanupBench(runtimes, workDir);
}

const q = (xs, p) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : NaN;
};
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
console.log(`exec of /bin/true into a running container: ${N} interleaved rounds (ms)`);
console.log(
  table(
    ['runtime', 'median', 'min', 'p90'],
    Object.entries(samples).map(([k, v]) => [k, fmt(med[k]), fmt(Math.min(...v)), fmt(q(v, 0.9))]),
  ),
);
const ratios = {};
for (const other of ['runc', 'crun']) if (med.tsrunc && med[other]) ratios[`tsrunc/${other}`] = med.tsrunc / med[other];
if (med.tsrunc) ratios['tsrunc over node floor (ms)'] = med.tsrunc - med[FLOOR];
console.log(Object.entries(ratios).map(([k, v]) => (k.endsWith('(ms)') ? `${k}: +${fmt(v)}` : `${k}: ${fmt(v, 2)}x`)).join('; '));
if (opts.json) writeFileSync(opts.json, JSON.stringify({ iterations: N, date: new Date().toISOString(), medians: med, ratios, samples }, null, 2) + '\n');
process.exitCode = failed ? 1 : 0;
