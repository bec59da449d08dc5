#!/usr/bin/env node
// Our shim (containerd-shim-tsrunc-v2) against containerd 1.6's runc v2 shim, under the engine test
// harness (private mount namespace with its own cgroup2 mount, containerd in a temp dir: runc never
// touches the host's cgroup v1 hierarchies), one interleaved run, median and p90:
//   - `ctr run --rm IMG true`: runc.v2 + runc, runc.v2 + tsrunc, tsrunc.v2 (our shim)
//   - the same `ctr run --rm` into a group whose shim already runs (`--annotation io.containerd.runc.v2.group=G`
//     next to a detached container of G: a pod's second container, as CRI groups by sandbox), the same three
//   - `ctr task exec true` into a running container: the same three
//   - shim RSS: our one shim for the first and per additional detached container (of one sandbox), vs
//     the runc v2 shims (one per container)
//   - shim CPU while those containers idle
//   node bench/shim.mjs [--iterations N] [--containers C] [--compare DIR] [--json FILE] [--only run,grouped,exec,mem] [--shim DIR] [--seccomp]
// --compare DIR adds DIR's shim (another checkout, built) to the run and exec rows: before/after in one run.
// --seccomp gives every container containerd's default seccomp profile (`ctr run --seccomp`), as CRI does.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEngineHarness } from './lib/engine-harness.mjs';
import { fmt, median, table } from './lib/stats.mjs';

delete process.env.NODE_EXTRA_CA_CERTS;

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '10' },
    containers: { type: 'string', default: '20' },
    json: { type: 'string' },
    compare: { type: 'string' },
    only: { type: 'string', default: 'run,grouped,exec,mem' },
    seccomp: { type: 'boolean', default: false },
    // the checkout whose shim is `tsrunc.v2` (default: this one), e.g. to take another build's memory figures
    shim: { type: 'string' },
  },
});
const only = new Set(opts.only.split(','));
const N = Number(opts.iterations);
const C = Number(opts.containers);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHIM = join(opts.shim ?? repo, 'dist', 'containerd-shim-tsrunc-v2');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The q-quantile, nearest rank (p90 of 10 samples is the 9th). */
function quantile(xs, q) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : NaN;
}

function status(pid) {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}
const rssKiB = (pid) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(status(pid))?.[1] ?? NaN);
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function ppidOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

let env;
const cleanup = [];
try {
  const { EngineEnv } = await loadEngineHarness(repo);
  // /run and the bundles on tmpfs, as on a host (an fsync on the temp dir's disk is not what production pays).
  env = await EngineEnv.start({ image: { dirs: ['run'] }, tmpfsRun: true });
  const floor = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env } });
    floor.push(performance.now() - t0);
  }
  const nodeFloor = median(floor);

  const CONFIGS = {
    'runc.v2+runc': () => env.ctrRuntimeArgs('runc'),
    'runc.v2+tsrunc': () => env.ctrRuntimeArgs('tsrunc'),
    'tsrunc.v2': () => ['--runtime', SHIM, '--cpu-shares', '0'],
  };
  if (opts.compare) CONFIGS['tsrunc.v2@compare'] = () => ['--runtime', join(opts.compare, 'dist', 'containerd-shim-tsrunc-v2'), '--cpu-shares', '0'];
  if (opts.seccomp) for (const [cfg, args] of Object.entries(CONFIGS)) CONFIGS[cfg] = () => [...args(), '--seccomp'];
  const ctrOk = async (args) => {
    const r = await env.ctr(args, { timeout: 60_000 });
    if (r.code !== 0) throw new Error(`ctr ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    return r;
  };
  const taskPid = async (id) => {
    const r = await ctrOk(['task', 'ls']);
    for (const line of r.stdout.split('\n').slice(1)) {
      const [task, pid, st] = line.trim().split(/\s+/);
      if (task === id && st === 'RUNNING') return Number(pid);
    }
    return undefined;
  };
  const waitRunning = async (id) => {
    for (let i = 0; i < 400; i++) {
      const pid = await taskPid(id);
      if (pid) return pid;
      await sleep(25);
    }
    throw new Error(`${id} not running`);
  };
  const remove = async (id) => {
    await env.ctr(['task', 'kill', '-s', 'SIGKILL', id], { timeout: 20_000 });
    await env.ctr(['task', 'delete', '-f', id], { timeout: 20_000 });
    await env.ctr(['container', 'delete', id], { timeout: 20_000 });
  };

  // --- ctr run --rm IMG true ---
  let n = 0;
  const run = async (cfg) => {
    const id = `bench-run-${++n}`;
    const t0 = performance.now();
    await ctrOk(['run', ...CONFIGS[cfg](), '--rm', env.image.ctrRef, id, 'true']);
    return performance.now() - t0;
  };
  const runSamples = Object.fromEntries(Object.keys(CONFIGS).map((k) => [k, []]));
  if (only.has('run')) for (const cfg of Object.keys(CONFIGS)) await run(cfg); // warm-up
  for (let i = 0; i < (only.has('run') ? N : 0); i++) {
    const order = Object.keys(CONFIGS);
    for (let r = 0; r < i % order.length; r++) order.push(order.shift());
    for (const cfg of order) runSamples[cfg].push(await run(cfg));
  }

  // --- ctr run --rm into a group whose shim runs (both shims group by io.containerd.runc.v2.group) ---
  const groupCfgs = only.has('grouped') ? Object.keys(CONFIGS) : [];
  const groupOf = (cfg) => `bench-group-${cfg.replace(/[^a-z0-9]/g, '')}`;
  for (const cfg of groupCfgs) {
    const id = `${groupOf(cfg)}-resident`;
    cleanup.push(id);
    await ctrOk(['run', ...CONFIGS[cfg](), '--annotation', `io.containerd.runc.v2.group=${groupOf(cfg)}`, '-d', env.image.ctrRef, id, 'sleep', '100000']);
    await waitRunning(id);
  }
  const runGrouped = async (cfg) => {
    const id = `bench-grun-${++n}`;
    const t0 = performance.now();
    await ctrOk(['run', ...CONFIGS[cfg](), '--annotation', `io.containerd.runc.v2.group=${groupOf(cfg)}`, '--rm', env.image.ctrRef, id, 'true']);
    return performance.now() - t0;
  };
  const groupedSamples = Object.fromEntries(groupCfgs.map((k) => [k, []]));
  for (const cfg of groupCfgs) await runGrouped(cfg); // warm-up
  for (let i = 0; i < (groupCfgs.length ? N : 0); i++) {
    const order = [...groupCfgs];
    for (let r = 0; r < i % order.length; r++) order.push(order.shift());
    for (const cfg of order) groupedSamples[cfg].push(await runGrouped(cfg));
  }
  for (const cfg of groupCfgs) await remove(`${groupOf(cfg)}-resident`);
  cleanup.length = 0;

  // --- ctr task exec true ---
  const execCfgs = only.has('exec') ? Object.keys(CONFIGS) : [];
  const execIds = {};
  const execPids = {};
  for (const cfg of execCfgs) {
    const id = `bench-exec-${cfg.replace(/[^a-z0-9]/g, '')}`;
    cleanup.push(id);
    await ctrOk(['run', ...CONFIGS[cfg](), '-d', env.image.ctrRef, id, 'sleep', '100000']);
    execPids[cfg] = await waitRunning(id);
    execIds[cfg] = id;
  }
  // Our shim's own CPU per exec (its ticks over the loop; the exec'd processes are not in them).
  const ourShimPid = only.has('exec') ? ppidOf(execPids['tsrunc.v2']) : 0;
  const ourShimTicks0 = only.has('exec') ? cpuTicks(ourShimPid) : 0;
  let e = 0;
  // A failed exec counts as a failure of its config (reported), not as a time, and does not stop the run.
  const execFailures = {};
  const exec = async (cfg) => {
    const t0 = performance.now();
    const r = await env.ctr(['task', 'exec', '--exec-id', `e${++e}`, execIds[cfg], 'true'], { timeout: 60_000 });
    if (r.code === 0) return performance.now() - t0;
    execFailures[cfg] = [...(execFailures[cfg] ?? []), r.stderr.trim()];
    return NaN;
  };
  const execSamples = Object.fromEntries(execCfgs.map((k) => [k, []]));
  for (const cfg of execCfgs) await exec(cfg);
  for (let i = 0; i < (only.has('exec') ? N : 0); i++) {
    const order = [...execCfgs];
    for (let r = 0; r < i % order.length; r++) order.push(order.shift());
    for (const cfg of order) execSamples[cfg].push(await exec(cfg));
  }
  const shimCpuPerExecMs = only.has('exec') ? ((cpuTicks(ourShimPid) - ourShimTicks0) * 10) / (N + 1) : NaN;
  for (const id of Object.values(execIds)) await remove(id);
  cleanup.length = 0;

  // --- memory and idle CPU: C detached containers ---
  const mem = {};
  const pod = `bench-pod-${process.pid}`;
  const ours = [];
  for (let i = 0; i < (only.has('mem') ? C : 0); i++) {
    const id = `${pod}-t${i}`;
    cleanup.push(id);
    ours.push(id);
    await ctrOk(['run', ...CONFIGS['tsrunc.v2'](), '--annotation', `io.kubernetes.cri.sandbox-id=${pod}`, '-d', env.image.ctrRef, id, 'sleep', '100000']);
    const pid = await waitRunning(id);
    if (i === 0) {
      await sleep(500);
      mem.shimPid = ppidOf(pid);
      mem.oursFirstKiB = rssKiB(mem.shimPid);
    }
  }
  if (only.has('mem')) await sleep(1000);
  mem.oursAllKiB = rssKiB(mem.shimPid);
  mem.oursPerExtraKiB = (mem.oursAllKiB - mem.oursFirstKiB) / (C - 1);
  if (only.has('mem')) {
    const t0 = cpuTicks(mem.shimPid);
    await sleep(5000);
    mem.oursIdleCpuTicks5s = cpuTicks(mem.shimPid) - t0;
  }
  for (let i = 0; i < ours.length; i += 5) await Promise.all(ours.slice(i, i + 5).map(remove));
  cleanup.length = 0;

  const runcIds = [];
  for (let i = 0; i < (only.has('mem') ? Math.min(C, 5) : 0); i++) {
    const id = `bench-runc-${i}`;
    cleanup.push(id);
    runcIds.push(id);
    await ctrOk(['run', ...CONFIGS['runc.v2+runc'](), '-d', env.image.ctrRef, id, 'sleep', '100000']);
  }
  const runcShims = [];
  for (const id of runcIds) runcShims.push(ppidOf(await waitRunning(id)));
  if (only.has('mem')) await sleep(1000);
  mem.runcShimKiB = median(runcShims.map(rssKiB));
  for (const id of runcIds) await remove(id);
  cleanup.length = 0;

  const med = (s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  const runMed = med(runSamples);
  const execMed = med(execSamples);
  const groupedMed = med(groupedSamples);
  const rows = (samples, meds) =>
    Object.entries(samples).map(([k, v]) => [k, fmt(meds[k]), fmt(quantile(v, 0.9)), fmt(Math.min(...v.filter(Number.isFinite))), fmt(Math.max(...v.filter(Number.isFinite))), fmt(meds[k] / meds['runc.v2+runc'], 2)]);
  const header = ['config', 'median ms', 'p90 ms', 'min ms', 'max ms', 'x runc.v2+runc'];
  console.log(`node -e 0 on this machine now: ${fmt(nodeFloor)} ms (median of 5)`);
  if (only.has('run')) {
    console.log(`\nctr run --rm IMG true, containerd 1.6, N=${N} each, interleaved (rotated order)`);
    console.log(table(header, rows(runSamples, runMed)));
  }
  if (only.has('grouped')) {
    console.log(`\nctr run --rm --annotation io.containerd.runc.v2.group=G IMG true, G's shim running (a detached container of G), N=${N} each, interleaved`);
    console.log(table(header, rows(groupedSamples, groupedMed)));
  }
  if (only.has('exec')) {
    console.log(`\nctr task exec true, N=${N} each, interleaved (rotated order)`);
    console.log(table(header, rows(execSamples, execMed)));
    console.log(`  our shim's own CPU per exec (Exec..Delete, all its requests): ${fmt(shimCpuPerExecMs)} ms`);
    for (const [k, errs] of Object.entries(execFailures)) console.log(`  ${k}: ${errs.length} failed exec(s), e.g. ${errs[0]}`);
  }
  if (only.has('mem')) {
    console.log(`\nshim memory (RSS): tsrunc.v2 with 1 container ${fmt(mem.oursFirstKiB / 1024)} MiB, with ${C}: ${fmt(mem.oursAllKiB / 1024)} MiB ` +
      `(${fmt(mem.oursPerExtraKiB / 1024, 2)} MiB per additional container); runc.v2: ${fmt(mem.runcShimKiB / 1024)} MiB per container (one shim each)`);
    console.log(`shim CPU while ${C} containers idle: ${mem.oursIdleCpuTicks5s} ticks (${mem.oursIdleCpuTicks5s * 10} ms) in 5 s`);
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ iterations: N, nodeFloor, runSamples, execSamples, execFailures, shimCpuPerExecMs, runMedian: runMed, execMedian: execMed, groupedSamples, groupedMedian: groupedMed, mem }, null, 2));
} finally {
  for (const id of cleanup) {
    await env?.ctr(['task', 'kill', '-s', 'SIGKILL', id], { timeout: 20_000 }).catch(() => undefined);
    await env?.ctr(['task', 'delete', '-f', id], { timeout: 20_000 }).catch(() => undefined);
    await env?.ctr(['container', 'delete', id], { timeout: 20_000 }).catch(() => undefined);
  }
  await env?.stop();
}

