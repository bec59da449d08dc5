#!/usr/bin/env node
// Where one `ctr run --rm IMG true` (or with --exec, one `ctr task exec` of `true` into a running
// container) with our shim goes: timestamps of each phase (ms after ctr started, median over the runs)
// and the server's CPU, from
//   - a wrapper around the shim binary (shell: +1-2 ms per call) logging when containerd runs start/delete,
//   - a preload in the server (bench/lib/shim-trace-preload.cjs, through a `node` wrapper first in
//     containerd's PATH): process start, bundle compile (code cache accepted?), listening, accept,
//     every request and answer, events, exit.
// --grouped: each `ctr run --rm` joins the group of a running container (io.containerd.runc.v2.group), so its
// shim is already up: the marks are the resident server's, split by time as for --exec.
// Run it under the machine lock: flock -x /work/wt/bench.lock node bench/shim-trace.mjs [--runs N] [--shim DIR] [--exec | --grouped]
//   [--node-args='--cpu-prof --cpu-prof-dir=D --cpu-prof-interval=2000'] (extra node flags of the server)
//   [--strace FILE] (containerd and its children under strace -f in the last run)
//   [--server-out FILE] (the servers' stdout and stderr, e.g. with --node-args=--trace-gc)
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEngineHarness } from './lib/engine-harness.mjs';
import { fmt, median, table } from './lib/stats.mjs';

delete process.env.NODE_EXTRA_CA_CERTS;
const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '10' }, shim: { type: 'string' }, strace: { type: 'string' }, 'node-args': { type: 'string', default: '' }, 'server-out': { type: 'string' }, exec: { type: 'boolean' }, grouped: { type: 'boolean' } } });
const resident = opts.exec || opts.grouped;
const here = dirname(fileURLToPath(import.meta.url));
const repo = opts.shim ?? join(here, '..');
const tmp = mkdtempSync(join(tmpdir(), 'tsrunc-shim-trace-'));
const traces = join(tmp, 'traces');
const bin = join(tmp, 'bin');
mkdirSync(traces);
mkdirSync(bin);
const node = process.execPath;
writeFileSync(join(bin, 'node'), `#!/bin/sh\nTSRUNC_SHIM_TRACE_DIR=${traces} exec ${node} ${opts['node-args']} -r ${join(here, 'lib', 'shim-trace-preload.cjs')} "$@"${opts['server-out'] ? ` >>${opts['server-out']} 2>&1` : ''}\n`);
const shim = join(bin, 'shim');
const launcher = join(repo, 'dist', 'containerd-shim-tsrunc-v2');
// The last argument is the action (start / delete); the id follows -id.
writeFileSync(
  shim,
  `#!/bin/sh\nt=$(date +%s%N); id=; prev=; for a; do [ "$prev" = -id ] && id=$a; prev=$a; done\n` +
    `echo "$t begin $a $id" >> ${traces}/launcher.log\n${launcher} "$@"; rc=$?\necho "$(date +%s%N) end $a $id" >> ${traces}/launcher.log\nexit $rc\n`,
);
chmodSync(join(bin, 'node'), 0o755);
chmodSync(shim, 0o755);

let env;
try {
  const { EngineEnv } = await loadEngineHarness(join(here, '..'));
  env = await EngineEnv.start({ image: { dirs: ['run'] }, containerdPath: [bin], tmpfsRun: true });
  const runs = [];
  const N = Number(opts.runs);
  // --exec, --grouped: one long-running container; every run is an exec into it or a container of its
  // group, and the marks of its server are split by time.
  const host = 'trace-resident';
  const group = ['--annotation', 'io.containerd.runc.v2.group=trace-group'];
  if (resident) {
    const r = await env.ctr(['run', '-d', '--runtime', shim, '--cpu-shares', '0', ...(opts.grouped ? group : []), env.image.ctrRef, host, 'sleep', '1000'], { timeout: 60_000 });
    if (r.code !== 0) throw new Error(`ctr run -d: ${r.stderr}`);
  }
  for (let i = 0; i < N + 2; i++) {
    const id = `trace-${i}`;
    // --strace FILE: containerd (all threads and children) under strace in the last run, for a map of its side.
    const st = opts.strace && i === N + 1 ? spawn('strace', ['-f', '-tt', '-T', '-o', opts.strace, '-p', execFileSync('pgrep', ['-f', `${env.dir}/containerd/config.toml`], { encoding: 'utf8' }).trim().split('\n')[0]]) : undefined;
    if (st) await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.timeOrigin + performance.now();
    if (st) console.log(`traced run starts at ${new Date(t0).toISOString()}`);
    const args = opts.exec
      ? ['task', 'exec', '--exec-id', id, host, 'true']
      : ['run', '--runtime', shim, '--cpu-shares', '0', ...(opts.grouped ? group : []), '--rm', env.image.ctrRef, id, 'true'];
    const r = await env.ctr(args, { timeout: 60_000 });
    const t1 = performance.timeOrigin + performance.now();
    if (st) {
      st.kill('SIGINT');
      await new Promise((r) => st.once('exit', r));
    }
    if (r.code !== 0) throw new Error(`ctr ${args.slice(0, 2).join(' ')}: ${r.stderr}`);
    if (i >= 2) runs.push({ id, t0, t1 }); // two warm-ups (the first writes the server's warm code cache)
  }
  if (resident) {
    await env.ctr(['task', 'kill', '-s', 'KILL', host]);
    await env.ctr(['task', 'delete', host], { timeout: 60_000 });
    await env.ctr(['container', 'delete', host]);
  }
  await new Promise((r) => setTimeout(r, 300)); // the last server's exit handler writes its trace
  const launch = readFileSync(join(traces, 'launcher.log'), 'utf8').trim().split('\n').map((l) => {
    const [t, what, action, id] = l.split(' ');
    return { t: Number(t) / 1e6, what, action, id };
  });
  const servers = readdirSync(traces).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(traces, f), 'utf8')));
  const rows = new Map();
  const add = (k, v) => rows.set(k, [...(rows.get(k) ?? []), v]);
  const cpu = new Map();
  const addCpu = (k, v) => cpu.set(k, [...(cpu.get(k) ?? []), v]);
  let rejected = 0;
  for (const { id, t0, t1 } of runs) {
    const rel = (t) => t - t0;
    for (const l of launch.filter((l) => l.id === id)) add(`launcher ${l.action} ${l.what}`, rel(l.t));
    const s = servers.find((s) => s.argv.includes(resident ? host : id));
    if (!s) throw new Error(`no server trace for ${id}`);
    const methods = new Map();
    let prev;
    // an exec's marks: those while its ctr ran (the server's own start-up belongs to none)
    const marks = resident ? s.marks.filter((m) => m.t >= t0 && m.t <= t1) : s.marks;
    for (const m of marks) {
      let name = m.name;
      if (m.name === 'req') methods.set(m.id, m.method);
      if (m.name === 'req' || m.name === 'res') name = `${m.name} ${methods.get(m.id)}`;
      if (m.name === 'event') name = `event ${m.topic}`;
      if (m.name === 'compile:end' && m.rejected) rejected++;
      add(`server ${name}`, rel(m.t));
      if (prev) addCpu(`${prev.name} -> ${name}`, m.cpu - prev.cpu);
      prev = { ...m, name };
    }
    add('ctr exits', rel(t1));
    if (resident) {
      if (marks.length) addCpu('== total: first -> last mark', marks.at(-1).cpu - marks[0].cpu);
      continue;
    }
    const at = (name) => s.marks.find((m) => m.name === name);
    addCpu('== total: start -> accept', at('accept').cpu);
    addCpu('== total: start -> exit', at('exit').cpu);
  }
  const order = [...rows.entries()].map(([k, v]) => [k, median(v)]).sort((a, b) => a[1] - b[1]);
  console.log(`${opts.exec ? 'ctr task exec CONTAINER true' : opts.grouped ? 'ctr run --rm IMG true into a running group' : 'ctr run --rm IMG true'} with ${launcher} (wrapped), ${runs.length} runs, ms after ctr started (median)`);
  console.log(table(['phase', 'at ms', 'n'], order.map(([k, v]) => [k, fmt(v), String(rows.get(k).length)])));
  console.log(`\nserver CPU between consecutive marks (median ms)`);
  console.log(table(['step', 'cpu ms'], [...cpu.entries()].map(([k, v]) => [k, fmt(median(v), 2)])));
  console.log(`code cache rejected in ${rejected} of ${runs.length} servers`);
} finally {
  await env?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
