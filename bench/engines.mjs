#!/usr/bin/env node
// `ctr run --rm IMG <id> true` under containerd 1.6's stock runc v2 shim, with tsrunc vs runc as the
// runtime binary, interleaved, medians and the ratio. Uses the engine test harness (test/engines/):
// a private mount namespace with cgroup2 on /sys/fs/cgroup, containerd with everything in a temp dir.
//   node bench/engines.mjs [--iterations N] [--seccomp] [--json FILE]
// --seccomp: containerd's default seccomp profile on every container (`ctr run --seccomp`), as CRI and
// Docker give one.
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
    json: { type: 'string' },
  },
});
const N = Number(opts.iterations);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

let env;
try {
  const { EngineEnv } = await loadEngineHarness(repo);

  env = await EngineEnv.start({ image: { dirs: ['run'] }, tmpfsRun: true });
  const samples = { runc: [], tsrunc: [] };
  let n = 0;
  const once = async (rt) => {
    const id = `bench-${rt}-${++n}`;
    const t0 = performance.now();
    const r = await env.ctr(['run', ...env.ctrRuntimeArgs(rt), ...(opts.seccomp ? ['--seccomp'] : []), '--rm', env.image.ctrRef, id, 'true'], { timeout: 30_000 });
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`${rt}: ctr run exited ${r.code}: ${r.stderr.trim()}`);
    return ms;
  };
  // One warm-up each: the first run pays for page cache and the shim binary.
  await once('runc');
  await once('tsrunc');
  for (let i = 0; i < N; i++) {
    // Alternate which goes first, so drift hits both alike.
    const order = i % 2 ? ['tsrunc', 'runc'] : ['runc', 'tsrunc'];
    for (const rt of order) samples[rt].push(await once(rt));
  }
  const med = { runc: median(samples.runc), tsrunc: median(samples.tsrunc) };
  const ratio = med.tsrunc / med.runc;
  console.log(`ctr run${opts.seccomp ? ' --seccomp' : ''} --rm IMG true, containerd 1.6 runc v2 shim, N=${N} each, interleaved`);
  console.log(
    table(
      ['runtime', 'median ms', 'min ms', 'max ms'],
      ['runc', 'tsrunc'].map((rt) => [rt, fmt(med[rt]), fmt(Math.min(...samples[rt])), fmt(Math.max(...samples[rt]))]),
    ),
  );
  console.log(`ratio tsrunc/runc: ${fmt(ratio, 2)}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ iterations: N, samples, median: med, ratio }, null, 2));
} finally {
  await env?.stop();
}
