// Benchmarks run in a private mount namespace where /sys/fs/cgroup is a cgroup2 mount, so no runtime
// touches the host's cgroup v1 hierarchies (one of them holds this machine's supervisor).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchEnv } from './proc.mjs';

/** Re-runs `scriptUrl` (import.meta.url of the caller) inside the namespace and exits; returns inside it. */
export function enterBenchNamespace(scriptUrl) {
  if (process.env.TSRUNC_BENCH_NS !== '1') {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...benchEnv(), TSRUNC_BENCH_NS: '1' },
    });
    process.exit(r.status ?? 1);
  }
  delete process.env.NODE_EXTRA_CA_CERTS;
  if (!cgroup2At('/sys/fs/cgroup')) {
    // Detach the v1 hierarchies (and the shadowed unified mount) in this namespace only, so every
    // runtime finds exactly one cgroup2 mount, at the usual place.
    const u = spawnSync('umount', ['-l', '/sys/fs/cgroup'], { stdio: 'inherit' });
    if (u.status !== 0) throw new Error('cannot detach /sys/fs/cgroup in the private namespace');
    const m = spawnSync('mount', ['-t', 'cgroup2', 'cgroup2', '/sys/fs/cgroup'], { stdio: 'inherit' });
    if (m.status !== 0) throw new Error('cannot mount cgroup2 on /sys/fs/cgroup in the private namespace');
  }
  // The runtimes' state roots (/run/...) on tmpfs, as on a host (Debian's /run is tmpfs): here /run is
  // ext4, where a delete's unlinks and rmdir cost ~0.6 ms of journal work that no production host pays.
  const t = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tsrunc-bench-run', '/run'], { stdio: 'inherit' });
  if (t.status !== 0) throw new Error('cannot mount a tmpfs on /run in the private namespace');
}

function cgroup2At(path) {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path && l.split(' - ')[1]?.startsWith('cgroup2 '));
}
