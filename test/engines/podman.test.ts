// Podman 4.3 (with conmon) and `--runtime PATH`, in the same isolated namespace. Podman gives root
// containers RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 32768 and a pids limit of 2048; this sandbox can
// raise no hard limit and its cgroup2 tree has no pids controller, so the tests ask for less
// (podman then still sends `"pids": {"limit": 0}`, which runc treats as unset).
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, RUNC, uniqueId, showRun } from './harness';

/** The argv of the conmon that monitors container `id` (full id), from /proc. */
function conmonArgv(id: string): string[] {
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.endsWith('conmon') && argv.includes(id)) return argv;
  }
  throw new Error(`no conmon for ${id}`);
}

const havePodman = installed('containerd') && installed('podman') && installed('conmon');

describe.skipIf(!havePodman)('podman', () => {
  let env: EngineEnv;

  beforeAll(async () => {
    env = await EngineEnv.start({ podman: true });
  });

  afterAll(async () => {
    await env?.stop();
  });


  describe.each(['runc', 'tsrunc'] as const)('runtime %s', (runtime) => {
    const runArgs = (): string[] => [
      '--runtime', runtime === 'runc' ? RUNC : env.tsruncBin,
      'run', '--network', 'none', '--cgroup-parent', `/${env.tag}-podman`,
      '--pids-limit', '0', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
    ];

    test('run --rm: stdout and exit codes', async () => {
      const r = await env.podman([...runArgs(), '--rm', env.image.tag, 'sh', '-c', 'echo hi; exit 4']);
      expect(r.stdout, showRun(r)).toBe('hi\n');
      expect(r.code, showRun(r)).toBe(4);
    });

    test('run -d, exec, stop delivers SIGTERM, rm', async () => {
      const name = uniqueId('p');
      try {
        const script = 'trap "echo got-term; exit 0" TERM; echo started; while true; do sleep 0.1; done';
        const r = await env.podman([...runArgs(), '-d', '--name', name, env.image.tag, 'sh', '-c', script]);
        expect(r.code, showRun(r)).toBe(0);
        // The runtime asked for made the container: conmon drives it (-r), and its own `list`, with the
        // flags conmon passes it, shows the container as running.
        const id = r.stdout.trim();
        const argv = conmonArgv(id);
        const bin = argv[argv.indexOf('-r') + 1];
        expect(bin).toBe(runtime === 'runc' ? RUNC : env.tsruncBin);
        // conmon gets them as `--runtime-arg X` and `--runtime-arg=X`.
        const runtimeArgs = argv.flatMap((a, i) => (a === '--runtime-arg' ? [argv[i + 1]!] : a.startsWith('--runtime-arg=') ? [a.slice('--runtime-arg='.length)] : []));
        const l = await env.exec(bin!, [...runtimeArgs, 'list']);
        expect(l.code, showRun(l)).toBe(0);
        expect(l.stdout, `conmon: ${argv.join(' ')}`).toMatch(new RegExp(`^${id}\\s+\\d+\\s+running`, 'm'));
        const e = await env.podman(['--runtime', runtime === 'runc' ? RUNC : env.tsruncBin, 'exec', name, 'sh', '-c', 'echo in-exec; exit 5']);
        expect(e.stdout, showRun(e)).toBe('in-exec\n');
        expect(e.code, showRun(e)).toBe(5);
        const s = await env.podman(['stop', '-t', '10', name]);
        expect(s.code, showRun(s)).toBe(0);
        expect((await env.podman(['logs', name])).stdout).toBe('started\ngot-term\n');
        const rm = await env.podman(['rm', name]);
        expect(rm.code, showRun(rm)).toBe(0);
      } finally {
        await env.podman(['rm', '-f', name]);
      }
    });
  });
});
