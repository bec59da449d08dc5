#!/usr/bin/env node
// Lifecycle latency (create, start, wait for exit, delete of /bin/true) and memory of tsrunc vs runc vs
// crun vs Node's own floor (`node -e 0` once per tsrunc call), interleaved in one run.
//   node bench/lifecycle.mjs [--iterations N] [--rss-iterations N] [--json FILE] [--seccomp PROFILE]
// Runs in a private mount namespace with cgroup2 mounted on /sys/fs/cgroup, so no runtime touches
// the host's cgroup v1 hierarchies.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEnv, peakRssKiB, readPidFile, timed, vmRssKiB, waitDead } from './lib/proc.mjs';
import { cleanupBench, cmd, prepareBundles, runtimeDefs } from './lib/runtimes.mjs';
import { fmt, median, table } from './lib/stats.mjs';
import { enterBenchNamespace } from './lib/namespace.mjs';

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20' },
    'rss-iterations': { type: 'string', default: '3' },
    json: { type: 'string' },
    // A Docker/containers-common seccomp profile for every runtime, e.g. /usr/share/containers/seccomp.json.
    seccomp: { type: 'string' },
  },
});

enterBenchNamespace(import.meta.url);

const N = Number(opts.iterations);
const RSS_N = Number(opts['rss-iterations']);
const defs = runtimeDefs();
const runtimes = defs.filter((d) => d.argv);
for (const d of defs) if (!d.argv) console.error(`bench: ${d.name} not found, skipped`);
const workDir = mkdtempSync(join(tmpdir(), 'tsrunc-bench-'));

const results = Object.fromEntries(
  runtimes.map((rt) => [rt.name, { create: [], start: [], wait: [], delete: [], total: [], initRss: [], createMaxRss: [], maxRss: [] }]),
);
const floor = { total: [], maxRss: [], calls: 3 };

function lifecycle(rt, id) {
  const r = results[rt.name];
  const create = timed(cmd(rt, 'create', '--bundle', rt.bundle, '--pid-file', rt.pidFile, id));
  let pid = readPidFile(rt.pidFile);
  if (!pid) {
    // No --pid-file support: ask state (untimed).
    const s = spawnSync(cmd(rt)[0], [...cmd(rt).slice(1), 'state', id], { encoding: 'utf8', env: benchEnv() });
    pid = JSON.parse(s.stdout).pid;
  }
  r.initRss.push(vmRssKiB(pid));
  const start = timed(cmd(rt, 'start', id));
  const wait = waitDead(pid);
  const del = timed(cmd(rt, 'delete', id));
  r.create.push(create);
  r.start.push(start);
  r.wait.push(wait);
  r.delete.push(del);
  r.total.push(create + start + wait + del);
}

function rssRound(rt, id) {
  const r = results[rt.name];
  const out = join(workDir, 'time.out');
  const c = peakRssKiB(cmd(rt, 'create', '--bundle', rt.bundle, '--pid-file', rt.pidFile, id), out);
  const pid = readPidFile(rt.pidFile);
  const s = peakRssKiB(cmd(rt, 'start', id), out);
  if (pid) waitDead(pid);
  else spawnSync('sleep', ['0.2']);
  const d = peakRssKiB(cmd(rt, 'delete', '--force', id), out);
  r.createMaxRss.push(c);
  r.maxRss.push(Math.max(c, s, d));
}

function nodeFloor() {
  let t = 0;
  for (let k = 0; k < floor.calls; k++) t += timed([process.execPath, '-e', '0']);
  floor.total.push(t);
}

let failed = false;
try {
  prepareBundles(workDir, runtimes, { seccomp: opts.seccomp });
  timed([process.execPath, '-e', '0']); // warm the page cache
  for (let i = 0; i < N; i++) {
    const order = [...runtimes.map((rt) => () => lifecycle(rt, `bench-${i}`)), nodeFloor];
    const shift = i % order.length;
    for (const f of [...order.slice(shift), ...order.slice(0, shift)]) f();
  }
  for (let i = 0; i < RSS_N; i++) {
    for (const rt of runtimes) rssRound(rt, `rss-${i}`);
    floor.maxRss.push(peakRssKiB([process.execPath, '-e', '0'], join(workDir, 'time.out')));
  }
} catch (err) {
  failed = true;
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
} finally {
  cleanupBench(runtimes, workDir);
}

const mib = (kib) => kib / 1024;
const summary = {};
for (const rt of runtimes) {
  const r = results[rt.name];
  summary[rt.name] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}
summary['node -e 0'] = { total: median(floor.total), maxRss: median(floor.maxRss), calls: floor.calls };

const rows = runtimes.map((rt) => {
  const s = summary[rt.name];
  return [rt.name, fmt(s.create), fmt(s.start), fmt(s.wait), fmt(s.delete), fmt(s.total), fmt(mib(s.initRss)), fmt(mib(s.createMaxRss)), fmt(mib(s.maxRss))];
});
rows.push([`node -e 0 x${floor.calls}`, '', '', '', '', fmt(summary['node -e 0'].total), '', '', fmt(mib(summary['node -e 0'].maxRss))]);
console.log(`lifecycle of /bin/true: medians of ${N} interleaved rounds (ms); RSS in MiB (${RSS_N} rounds)`);
console.log(table(['runtime', 'create', 'start', 'wait', 'delete', 'total', 'init RSS', 'create RSS', 'max RSS'], rows));

const ratios = {};
const ts = summary.tsrunc;
if (ts) {
  for (const other of ['runc', 'crun']) {
    if (summary[other]) ratios[`tsrunc/${other}`] = { total: ts.total / summary[other].total, initRss: ts.initRss / summary[other].initRss, maxRss: ts.maxRss / summary[other].maxRss };
  }
  ratios['tsrunc/node floor'] = { total: ts.total / summary['node -e 0'].total, overFloorMs: ts.total - summary['node -e 0'].total };
  const parts = Object.entries(ratios).map(([k, v]) =>
    k === 'tsrunc/node floor'
      ? `${k} ${fmt(v.total, 2)}x (+${fmt(v.overFloorMs)} ms)`
      : `${k} time ${fmt(v.total, 2)}x, init RSS ${fmt(v.initRss, 2)}x, max RSS ${fmt(v.maxRss, 2)}x`,
  );
  console.log(`ratios: ${parts.join('; ')}`);
}

if (opts.json) {
  writeFileSync(opts.json, JSON.stringify({ iterations: N, rssIterations: RSS_N, date: new Date().toISOString(), summary, ratios, samples: results, floor }, null, 2) + '\n');
}
process.exitCode = failed ? 1 : 0;
