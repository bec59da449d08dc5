// The runtimes compared: their command line, state root and bundle.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv } from './proc.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TSRUNC_CJS = join(REPO, 'dist', 'tsrunc.cjs');
export const MAKE_BUNDLE_CJS = join(REPO, 'dist', 'make-bundle.cjs');

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Definitions; `adapt` turns the common config into what this runtime accepts. */
export function runtimeDefs() {
  return [
    { name: 'tsrunc', argv: existsSync(TSRUNC_CJS) ? [process.execPath, TSRUNC_CJS] : undefined, adapt: (c) => c },
    { name: 'runc', argv: which('runc') ? [which('runc')] : undefined, adapt: (c) => c },
    {
      name: 'crun',
      argv: which('crun') ? [which('crun')] : undefined,
      // Debian's crun 1.8 rejects ociVersion 1.3.0, and its cgroup v2 device filter needs a higher
      // RLIMIT_MEMLOCK than this sandbox allows, so it runs without the device rule.
      adapt: (c) => {
        const out = structuredClone(c);
        out.ociVersion = '1.0.2';
        if (out.linux?.resources) delete out.linux.resources.devices;
        return out;
      },
    },
  ];
}

/** A busybox bundle running /bin/true (from dist/make-bundle.cjs) and one config dir per runtime. */
export function prepareBundles(workDir, runtimes, { seccomp, hook = false, args = ['/bin/true'] } = {}) {
  if (!existsSync(MAKE_BUNDLE_CJS)) throw new Error(`${MAKE_BUNDLE_CJS} missing: run npm run build`);
  const base = join(workDir, 'base');
  const profile = seccomp ? ['--seccomp', seccomp] : [];
  execFileSync(process.execPath, [MAKE_BUNDLE_CJS, base, ...profile, '--', ...args], { env: benchEnv(), stdio: 'ignore' });
  const common = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8'));
  common.root = { ...common.root, path: join(base, 'rootfs') };
  common.process.terminal = false;
  // As Docker's create has (libnetwork-setkey): a prestart hook, here one that does nothing.
  if (hook) common.hooks = { prestart: [{ path: '/bin/true', args: ['true'] }] };
  for (const rt of runtimes) {
    const cfg = rt.adapt(structuredClone(common));
    cfg.linux = { ...cfg.linux, cgroupsPath: `/tsrunc-bench-${rt.name}-${process.pid}` };
    rt.bundle = join(workDir, rt.name);
    mkdirSync(rt.bundle);
    writeFileSync(join(rt.bundle, 'config.json'), JSON.stringify(cfg));
    rt.root = mkdtempSync(`/run/tsrunc-bench-${rt.name}-`);
    rt.pidFile = join(workDir, `${rt.name}.pid`);
  }
}

export function cmd(rt, ...args) {
  return [...rt.argv, '--root', rt.root, ...args];
}

/** Force-deletes whatever is left in the runtime's root and removes the root. */
export function cleanupRuntime(rt) {
  if (!rt.root || !existsSync(rt.root)) return;
  for (const id of readdirSync(rt.root)) {
    spawnSync(cmd(rt)[0], [...cmd(rt).slice(1), 'delete', '--force', id], { stdio: 'ignore', env: benchEnv() });
  }
  rmSync(rt.root, { recursive: true, force: true });
}

/** Everything a benchmark made: containers, roots, a cgroup a runtime left behind, the work dir. */
export function cleanupBench(runtimes, workDir) {
  for (const rt of runtimes) cleanupRuntime(rt);
  for (const rt of runtimes) {
    const cg = `/sys/fs/cgroup/tsrunc-bench-${rt.name}-${process.pid}`;
    try {
      rmdirSync(cg);
      console.error(`bench: ${rt.name} left its cgroup ${cg} behind (removed)`);
    } catch {
      // gone, as it should be
    }
  }
  rmSync(workDir, { recursive: true, force: true });
}
