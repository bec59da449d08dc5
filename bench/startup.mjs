#!/usr/bin/env node
// Start-up cost per CLI call: what each command costs above Node's own start (`node -e 0`), and its
// ratio to runc and crun, in one interleaved run (issue 12).
//   node bench/startup.mjs [--rounds N] [--compare DIR]... [--runtimes a,b] [--own] [--seccomp PROFILE] [--hook] [--json FILE]
// Every call of every runtime is timed next to a `node -e 0` of its own, in rotated order, so the
// machine's load hits all of them alike; "above node" is the median (and p90) of those paired
// differences. Wall time is what an engine waits for; CPU time (perf's task-clock, when perf exists) is
// what the call itself burns, and is the steadier figure on a loaded machine. Rounds alternate: even
// rounds time wall clock without perf (perf's own start would add to every call), odd rounds run each
// call under `perf stat` for its CPU time.
// --compare DIR adds the tsrunc built in another checkout (e.g. a before/after pair in one run).
// --own adds a third kind of round: each tsrunc call and its floor run as a probe copy of their main
// module (bench/lib/own-cpu.mjs), which reports the CPU time from the main module's first statement to
// the 'exit' event ("own": Node's boot and teardown, which whole-process CPU includes and which vary by
// several ms between runs, left out) and, under perf, from that statement to the process's end ("own+exit":
// Node's teardown after 'exit' included, which a hot call may skip).
// With --own and --compare, the per-round difference of the two builds' own CPU is printed too: the
// figure to decide a change by (two medians of separate samples hide sub-ms effects on this VM).
// --runtimes tsrunc,runc limits the runtimes (a --compare build is always kept).
// --seccomp PROFILE gives every container a Docker/containers-common profile, as engines do (e.g.
// /usr/share/containers/seccomp.json): create and exec then load (and tsrunc compiles or finds) a filter.
// --hook gives every container a prestart hook (/bin/true), as Docker's create has one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEnv, readPidFile, spawnCapture, waitDead } from './lib/proc.mjs';
import { cleanupBench, cmd, prepareBundles, runtimeDefs } from './lib/runtimes.mjs';
import { fmt, median, table } from './lib/stats.mjs';
import { enterBenchNamespace } from './lib/namespace.mjs';
import { removeOwnProbe, writeOwnFloor, writeOwnProbe } from './lib/own-cpu.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    compare: { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
    own: { type: 'boolean', default: false },
    runtimes: { type: 'string' },
    seccomp: { type: 'string' },
    hook: { type: 'boolean', default: false },
  },
});

enterBenchNamespace(import.meta.url);

const N = Number(opts.rounds);
const defs = runtimeDefs();
for (const dir of opts.compare) {
  const cjs = join(resolve(dir), 'dist', 'tsrunc.cjs');
  if (!existsSync(cjs)) throw new Error(`${cjs} missing: build that checkout first`);
  defs.splice(1, 0, { name: `tsrunc@${basename(resolve(dir))}`, argv: [process.execPath, cjs], adapt: (c) => c });
}
const wanted = opts.runtimes?.split(',');
const runtimes = defs.filter((d) => d.argv && (!wanted || wanted.includes(d.name) || d.name.startsWith('tsrunc@')));
for (const d of defs) if (!d.argv) console.error(`bench: ${d.name} not found, skipped`);
const workDir = mkdtempSync(join(tmpdir(), 'tsrunc-bench-'));
const PERF = ['/usr/bin/perf', '/usr/local/bin/perf'].find((p) => existsSync(p) && spawnSync(p, ['stat', '-x,', '-e', 'task-clock', 'true']).status === 0);

/**
 * Runs argv; returns wall ms and, with perf, CPU ms (task-clock of the process and its threads), or with
 * `own` (a node argv of a probe copy, own-cpu.mjs), the CPU ms from its first statement to 'exit' as `own`
 * and, with perf, to the process's end as `ownExit`.
 */
function call(argv, { check = true, cpu: wantCpu = false, own = false } = {}) {
  const perfOut = join(workDir, 'perf.out');
  const ownOut = join(workDir, 'own.out');
  const usePerf = PERF && (wantCpu || own);
  const full = usePerf ? [PERF, 'stat', '-x,', '-e', 'task-clock', '-o', perfOut, '--', ...argv] : argv;
  if (own) process.env.TSRUNC_BENCH_OWN = ownOut;
  const t0 = process.hrtime.bigint();
  const r = spawnCapture(full[0], full.slice(1));
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  delete process.env.TSRUNC_BENCH_OWN;
  if (check && r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  let cpu = NaN;
  if (usePerf) {
    const line = readFileSync(perfOut, 'utf8').split('\n').find((l) => l.includes('task-clock'));
    cpu = line ? Number(line.split(',')[0]) : NaN;
    rmSync(perfOut, { force: true });
  }
  if (own) {
    const probe = JSON.parse(readFileSync(ownOut, 'utf8'));
    rmSync(ownOut, { force: true });
    return { wall: NaN, cpu: NaN, own: probe.own, ownExit: cpu - probe.before };
  }
  return usePerf ? { wall: NaN, cpu } : { wall, cpu };
}

// The calls, in an engine's order, on one container per runtime and round (`sleep` keeps it running).
const OPS = [
  { name: '--version', argv: (rt) => [...rt.argv, '--version'] },
  { name: 'list', argv: (rt) => cmd(rt, 'list') },
  { name: 'create', argv: (rt, id) => cmd(rt, 'create', '--bundle', rt.bundle, '--pid-file', rt.pidFile, id), after: (rt) => (rt.pid = readPidFile(rt.pidFile)) },
  { name: 'state', argv: (rt, id) => cmd(rt, 'state', id) },
  { name: 'start', argv: (rt, id) => cmd(rt, 'start', id) },
  { name: 'exec', argv: (rt, id) => cmd(rt, 'exec', id, '/bin/true') },
  { name: 'kill', argv: (rt, id) => cmd(rt, 'kill', id, 'KILL'), after: (rt) => rt.pid && waitDead(rt.pid) },
  { name: 'delete', argv: (rt, id) => cmd(rt, 'delete', id) },
];
const FLOOR = [process.execPath, '-e', '0'];
// --own: each tsrunc build's probe copy of its entry, and the floor's probe
const OWN_FLOOR = opts.own ? [process.execPath, writeOwnFloor(workDir)] : undefined;
const ownProbes = new Map();
if (opts.own) for (const rt of runtimes) if (rt.name.startsWith('tsrunc')) ownProbes.set(rt.name, writeOwnProbe(rt.argv[1]));

// samples[rt][op] = [{ wall, cpu, own, ownExit, floorWall, floorCpu, floorOwn, floorOwnExit }]
const samples = Object.fromEntries(runtimes.map((rt) => [rt.name, Object.fromEntries(OPS.map((op) => [op.name, []]))]));

let failed = false;
try {
  prepareBundles(workDir, runtimes, { args: ['sleep', '600'], seccomp: opts.seccomp, hook: opts.hook });
  for (const rt of runtimes) call(rt.argv.concat('--version')); // warm the page cache
  call(FLOOR);
  for (let i = 0; i < N; i++) {
    const id = `startup-${i}`;
    for (const op of OPS) {
      const shift = i % runtimes.length;
      for (const rt of [...runtimes.slice(shift), ...runtimes.slice(0, shift)]) {
        // Alternate which of the pair runs first.
        // Round kinds: wall, perf CPU and (--own, tsrunc only) own CPU.
        const kind = i % (opts.own ? 3 : 2);
        const floorFirst = Math.floor(i / (opts.own ? 3 : 2)) % 2 === 0;
        const cpu = kind === 1;
        const own = kind === 2 && rt.name.startsWith('tsrunc');
        const floor = own ? OWN_FLOOR : FLOOR;
        const f1 = floorFirst ? call(floor, { cpu, own }) : undefined;
        const s = call(op.argv(own ? { ...rt, argv: [process.execPath, ownProbes.get(rt.name)] } : rt, id), { cpu, own });
        const f = f1 ?? call(floor, { cpu, own });
        op.after?.(rt);
        samples[rt.name][op.name].push({
          wall: s.wall,
          cpu: s.cpu,
          own: s.own ?? NaN,
          ownExit: s.ownExit ?? NaN,
          floorWall: f.wall,
          floorCpu: f.cpu,
          floorOwn: f.own ?? NaN,
          floorOwnExit: f.ownExit ?? NaN,
        });
      }
    }
  }
} catch (err) {
  failed = true;
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
} finally {
  for (const probe of ownProbes.values()) removeOwnProbe(probe);
  cleanupBench(runtimes, workDir);
}

const p90 = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor(v.length * 0.9))] : NaN;
};
const summary = {};
for (const rt of runtimes) {
  summary[rt.name] = {};
  for (const op of OPS) {
    const xs = samples[rt.name][op.name];
    const dWall = xs.map((x) => x.wall - x.floorWall);
    const dCpu = xs.map((x) => x.cpu - x.floorCpu);
    const dOwn = xs.map((x) => x.own - x.floorOwn);
    const dOwnExit = xs.map((x) => x.ownExit - x.floorOwnExit);
    summary[rt.name][op.name] = {
      wall: median(xs.map((x) => x.wall)),
      cpu: median(xs.map((x) => x.cpu)),
      aboveWall: median(dWall),
      aboveWallP90: p90(dWall),
      aboveCpu: median(dCpu),
      aboveCpuP90: p90(dCpu),
      aboveOwn: median(dOwn),
      aboveOwnP90: p90(dOwn),
      aboveOwnExit: median(dOwnExit),
      aboveOwnExitP90: p90(dOwnExit),
    };
  }
}
const floorAll = runtimes.flatMap((rt) => OPS.flatMap((op) => samples[rt.name][op.name]));
const floorMedian = (key) => median(floorAll.map((x) => x[key]));
summary['node -e 0'] = { wall: floorMedian('floorWall'), cpu: floorMedian('floorCpu'), own: floorMedian('floorOwn'), ownExit: floorMedian('floorOwnExit') };

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${fmt(a / b, 2)}x` : '-');
const tsruncs = runtimes.filter((rt) => rt.name.startsWith('tsrunc'));
console.log(
  `start-up per call: ${N} interleaved rounds, each call paired with its own \`node -e 0\` ` +
    `(median wall ${fmt(summary['node -e 0'].wall)} ms, CPU ${fmt(summary['node -e 0'].cpu)} ms` +
    (opts.own ? `; an empty main: own CPU ${fmt(summary['node -e 0'].own)}, own+exit ${fmt(summary['node -e 0'].ownExit)} ms` : '') +
    '); ms above it: median / p90',
);
const header = ['call', ...tsruncs.flatMap((rt) => [`${rt.name} wall`, 'cpu', ...(opts.own ? ['own cpu', 'own+exit'] : [])]), ...['runc', 'crun'].filter((n) => summary[n]).map((n) => `tsrunc/${n} wall`)];
const rows = OPS.map((op) => {
  const cells = [op.name];
  for (const rt of tsruncs) {
    const s = summary[rt.name][op.name];
    cells.push(`${fmt(s.aboveWall)} / ${fmt(s.aboveWallP90)}`, `${fmt(s.aboveCpu)} / ${fmt(s.aboveCpuP90)}`);
    if (opts.own) cells.push(`${fmt(s.aboveOwn)} / ${fmt(s.aboveOwnP90)}`, `${fmt(s.aboveOwnExit)} / ${fmt(s.aboveOwnExitP90)}`);
  }
  for (const other of ['runc', 'crun']) if (summary[other]) cells.push(ratio(summary.tsrunc[op.name].wall, summary[other][op.name].wall));
  return cells;
});
console.log(table(header, rows));
// A before/after decision needs the pair, not two medians: the same round's own CPU of both builds.
if (opts.own) {
  for (const cmp of tsruncs.filter((rt) => rt.name !== 'tsrunc')) {
    console.log(`\nown CPU, tsrunc minus ${cmp.name}, per round (ms): median [p25, p75]`);
    const q = (v, f) => v[Math.min(v.length - 1, Math.floor(v.length * f))];
    const paired = (op, key) => {
      const d = samples.tsrunc[op.name].map((x, i) => x[key] - samples[cmp.name][op.name][i]?.[key]).filter(Number.isFinite).sort((a, b) => a - b);
      return d.length ? `${fmt(q(d, 0.5), 2)} [${fmt(q(d, 0.25), 2)}, ${fmt(q(d, 0.75), 2)}]` : '-';
    };
    console.log(table(['call', 'own', 'own+exit'], OPS.map((op) => [op.name, paired(op, 'own'), paired(op, 'ownExit')])));
  }
}
const others = runtimes.filter((rt) => !rt.name.startsWith('tsrunc'));
if (others.length) {
  console.log('\nwhole-call medians (ms), wall / CPU');
  console.log(table(['call', ...runtimes.map((rt) => rt.name)], OPS.map((op) => [op.name, ...runtimes.map((rt) => `${fmt(summary[rt.name][op.name].wall)} / ${fmt(summary[rt.name][op.name].cpu)}`)])));
}
if (!PERF) console.log('(no perf: CPU columns empty)');
if (opts.json) writeFileSync(opts.json, JSON.stringify({ rounds: N, date: new Date().toISOString(), summary, samples }, null, 2) + '\n');
process.exitCode = failed ? 1 : 0;
