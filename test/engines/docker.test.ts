// dockerd 20.10 on our containerd, with tsrunc registered in daemon.json `runtimes`. Docker's specs are
// ociVersion 1.0.2-dev, carry a prestart hook (libnetwork-setkey) even with --network none, and send
// empty resources. Every case runs with runc first (proves the harness) and then with tsrunc.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, RUNC, uniqueId, showRun } from './harness';

const haveDocker = installed('containerd') && installed('dockerd') && installed('/usr/bin/docker');

describe.skipIf(!haveDocker)('dockerd', () => {
  let env: EngineEnv;

  beforeAll(async () => {
    env = await EngineEnv.start({ docker: true });
  });

  afterAll(async () => {
    await env?.stop();
  });


  async function inspect(id: string, format: string): Promise<string> {
    return (await env.docker(['inspect', '--format', format, id])).stdout.trim();
  }

  describe.each(['runc', 'tsrunc'] as const)('runtime %s', (runtime) => {
    const runArgs = (): string[] => ['run', '--runtime', runtime, '--network', 'none'];

    test('run --rm: stdout, stderr and exit code 0', async () => {
      const r = await env.docker([...runArgs(), '--rm', env.image.tag, 'sh', '-c', 'echo hi; echo oops >&2']);
      expect(r.code, showRun(r)).toBe(0);
      expect(r.stdout).toBe('hi\n');
      expect(r.stderr).toContain('oops');
    });

    test('run --rm: the exit code of the process is docker\'s', async () => {
      const r = await env.docker([...runArgs(), '--rm', env.image.tag, 'sh', '-c', 'exit 7']);
      expect(r.code, showRun(r)).toBe(7);
    });

    test('run --rm of a missing program: exit code 127 and the runtime\'s error', async () => {
      // The docker CLI maps the error text (the runtime's, read by the shim from its --log json) to 127
      // when it contains Go's lowercase errno text "no such file or directory" (case-sensitive).
      const r = await env.docker([...runArgs(), '--rm', env.image.tag, '/no/such/program']);
      expect(r.code, showRun(r)).toBe(127);
      expect(r.stderr).toMatch(/no such file or directory/i);
    });

    test('run --rm of a file that is not executable: exit code 126', async () => {
      // The docker CLI looks for Go's lowercase errno text ("permission denied") in the error.
      const r = await env.docker([...runArgs(), '--rm', env.image.tag, '/etc/passwd']);
      expect(r.code, showRun(r)).toBe(126);
      expect(r.stderr).toContain('permission denied');
    });

    test('run --rm -t: the process gets a terminal', async () => {
      const r = await env.docker([...runArgs(), '--rm', '-t', env.image.tag, 'sh', '-c', 'tty; exit 3']);
      expect(r.stdout, showRun(r)).toMatch(/\/dev\/pts\/\d+/);
      expect(r.code, showRun(r)).toBe(3);
    });

    test('run -d, exec (output, exit code), stop delivers SIGTERM, rm', async () => {
      const name = uniqueId('d');
      try {
        const script = 'trap "echo got-term; exit 0" TERM; echo started; while true; do sleep 0.1; done';
        const r = await env.docker([...runArgs(), '-d', '--name', name, env.image.tag, 'sh', '-c', script]);
        expect(r.code, showRun(r)).toBe(0);
        expect(await inspect(name, '{{.State.Running}}')).toBe('true');
        // The runtime asked for is the one that made the container: its own `state` knows it.
        const id = await inspect(name, '{{.Id}}');
        const st = await env.exec(runtime === 'runc' ? RUNC : env.tsruncBin, ['--root', env.dockerRuntimeRoot(runtime), 'state', id]);
        expect(st.code, showRun(st)).toBe(0);
        expect(JSON.parse(st.stdout)).toMatchObject({ id, status: 'running' });

        const e = await env.docker(['exec', name, 'sh', '-c', 'echo in-exec; exit 5']);
        expect(e.stdout, showRun(e)).toBe('in-exec\n');
        expect(e.code, showRun(e)).toBe(5);

        const t = await env.docker(['exec', '-t', name, 'tty']);
        expect(t.stdout, showRun(t)).toMatch(/\/dev\/pts\/\d+/);

        // The trap answers SIGTERM: exit code 0 and its line in the log (docker's SIGKILL fallback, 60 s
        // away, would give 137).
        const s = await env.docker(['stop', '-t', '60', name], { timeout: 90_000 });
        expect(s.code, showRun(s)).toBe(0);
        expect(await inspect(name, '{{.State.ExitCode}}')).toBe('0');
        const logs = await env.docker(['logs', name]);
        expect(logs.stdout).toBe('started\ngot-term\n');

        const rm = await env.docker(['rm', name]);
        expect(rm.code, showRun(rm)).toBe(0);
        expect((await env.docker(['inspect', name])).code).not.toBe(0);
      } finally {
        await env.docker(['rm', '-f', name]);
      }
    });

    test('rm -f of a running container', async () => {
      const name = uniqueId('f');
      const r = await env.docker([...runArgs(), '-d', '--name', name, env.image.tag, 'sleep', '1000']);
      expect(r.code, showRun(r)).toBe(0);
      const rm = await env.docker(['rm', '-f', name]);
      expect(rm.code, showRun(rm)).toBe(0);
      expect((await env.docker(['ps', '-aq', '--filter', `name=${name}`])).stdout.trim()).toBe('');
    });
  });
});
