#!/usr/bin/env node
// An engine's whole `run --rm IMG true` with tsrunc vs runc as the runtime binary, interleaved, medians
// and the ratio. Uses the engine test harness (test/engines/): a private mount namespace with cgroup2 on
// /sys/fs/cgroup, the engines with everything in a temp dir.
//   node bench/engines.mjs [--iterations N] [--seccomp] [--docker [--compare DIR]] [--json FILE]
// Default: `ctr run --rm` under containerd 1.6's stock runc v2 shim; --seccomp: containerd's default
// seccomp profile on every container (`ctr run --seccomp`), as CRI and Docker give one.
// --docker: `docker run --rm --network none` on dockerd 20.10 (over the same containerd and runc shim):
// Docker's default seccomp profile and its prestart hook (libnetwork-setkey) on every create, as Docker
// users run. --compare DIR adds DIR's tsrunc (another checkout, built) as a third runtime there.
// The image is the busybox test image plus an empty /run (most distro images have one; containerd's
// default spec mounts a tmpfs there).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEngineHarness } from './lib/engine-harness.mjs';
import { fmt, median, table } from './lib/stats.mjs';

delete process.env.NODE_EXTRA_CA_CERTS;

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '10' },
    seccomp: { type: 'boolean', default: false },
    docker: { type: 'boolean', default: false },
    compare: { type: 'string' },
    json: { type: 'string' },
  },
});
const N = Number(opts.iterations);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
if (opts.compare && !opts.docker) throw new Error('--compare needs --docker (ctr takes one tsrunc)');

let env;
try {
  const { EngineEnv } = await loadEngineHarness(repo);
  const extraTsrunc = opts.compare ? { 'tsrunc-compare': join(opts.compare, 'dist', 'tsrunc.cjs') } : {};
  env = await EngineEnv.start({ image: { dirs: ['run'] }, tmpfsRun: true, docker: opts.docker, extraTsrunc });
  const runtimes = ['runc', 'tsrunc', ...Object.keys(extraTsrunc)];
  const samples = Object.fromEntries(runtimes.map((rt) => [rt, []]));
  let n = 0;
  const once = async (rt) => {
    const id = `bench-${rt}-${++n}`;
    const t0 = performance.now();
    const r = opts.docker
      ? await env.docker(['run', '--runtime', rt, '--network', 'none', '--rm', '--name', id, env.image.tag, 'true'], { timeout: 60_000 })
      : await env.ctr(['run', ...env.ctrRuntimeArgs(rt), ...(opts.seccomp ? ['--seccomp'] : []), '--rm', env.image.ctrRef, id, 'true'], { timeout: 30_000 });
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`${rt}: run exited ${r.code}: ${r.stderr.trim()}`);
    return ms;
  };
  // One warm-up each: the first run pays for page cache and the shim binary.
  for (const rt of runtimes) await once(rt);
  for (let i = 0; i < N; i++) {
    // Rotate which goes first, so drift hits all alike.
    const order = runtimes.map((_, j) => runtimes[(i + j) % runtimes.length]);
    for (const rt of order) samples[rt].push(await once(rt));
  }
  const med = Object.fromEntries(runtimes.map((rt) => [rt, median(samples[rt])]));
  const what = opts.docker ? 'docker run --rm --network none IMG true, dockerd 20.10' : `ctr run${opts.seccomp ? ' --seccomp' : ''} --rm IMG true`;
  console.log(`${what}, containerd 1.6 runc v2 shim, N=${N} each, interleaved`);
  console.log(
    table(
      ['runtime', 'median ms', 'min ms', 'max ms', 'x runc'],
      runtimes.map((rt) => [rt, fmt(med[rt]), fmt(Math.min(...samples[rt])), fmt(Math.max(...samples[rt])), fmt(med[rt] / med.runc, 2)]),
    ),
  );
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ iterations: N, samples, median: med }, null, 2));
} finally {
  await env?.stop();
}
