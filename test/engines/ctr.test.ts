// containerd 1.6 with its stock runc v2 shim, the runtime binary swapped with `ctr run --runc-binary`.
// Every case runs with runc first (proves the harness) and then with tsrunc.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cgroupOf, cgroupPathDir, procStatus, statusField, waitFor } from '../helpers/host';
import { EngineEnv, installed, uniqueId, showRun } from './harness';
import * as ctrTasks from './ctr-tasks';
import type { ImageArchive } from './image';

const haveContainerd = installed('containerd') && installed('ctr');

describe.skipIf(!haveContainerd)('containerd (ctr)', () => {
  let env: EngineEnv;

  // Most cases use an image with an empty /run (as distro images have): containerd's default spec mounts
  // a tmpfs there. `bare` is the plain busybox rootfs without it, where the runtime must create /run.
  let bare: ImageArchive;

  beforeAll(async () => {
    env = await EngineEnv.start({ image: { dirs: ['run'] } });
    bare = await env.importCtrImage('bare', { repo: 'tsrunc-test/bare' });
  });

  afterAll(async () => {
    await env?.stop();
  });


  const taskStatus = (id: string) => ctrTasks.taskStatus(env, id);
  const waitStatus = (id: string, status: string, ms?: number) => ctrTasks.waitStatus(env, id, status, ms);
  const removeAll = (id: string) => ctrTasks.removeAll(env, id);

  describe.each(['runc', 'tsrunc'] as const)('runtime %s', (runtime) => {
    const runArgs = (): string[] => ['run', ...env.ctrRuntimeArgs(runtime)];

    /**
     * The runtime asked for made the task: its state file in its root (<--runc-root>/<namespace>, as the
     * runc shim passes it) is in that runtime's own format (runc: init_process_pid; tsrunc: pidStartTime)
     * and names the task's pid, and the other runtime's root has no such container.
     */
    async function expectMadeBy(id: string): Promise<void> {
      const { pid } = (await taskStatus(id))!;
      const stateFile = (r: 'runc' | 'tsrunc') => join(env.roots[r], env.ns, id, 'state.json');
      const st = JSON.parse(readFileSync(stateFile(runtime), 'utf8')) as Record<string, unknown>;
      if (runtime === 'runc') expect(st.init_process_pid).toBe(pid);
      else expect({ pid: st.pid, hasStart: typeof st.pidStartTime === 'number' }).toEqual({ pid, hasStart: true });
      expect(existsSync(stateFile(runtime === 'runc' ? 'tsrunc' : 'runc'))).toBe(false);
    }

    /** The task's cgroup directory on the host, from /proc/<pid>/cgroup. */
    const taskCgroup = (pid: number) => cgroupPathDir(cgroupOf(pid));

    test('run --rm: stdout, stderr and exit code 0', async () => {
      const id = uniqueId('rm');
      const r = await env.ctr([...runArgs(), '--rm', env.image.ctrRef, id, 'sh', '-c', 'echo hi; echo oops >&2']);
      expect(r.code, showRun(r)).toBe(0);
      expect(r.stdout).toBe('hi\n');
      expect(r.stderr).toContain('oops');
      expect(await taskStatus(id)).toBeUndefined();
    });

    test('run --rm of an image without /run: the runtime creates the mount point', async () => {
      const r = await env.ctr([...runArgs(), '--rm', bare.ctrRef, uniqueId('bare'), 'sh', '-c', 'grep -c " /run " /proc/mounts']);
      expect(r.code, showRun(r)).toBe(0);
      expect(r.stdout).toBe('1\n');
    });

    test('run --rm: the exit code of the process is ctr\'s', async () => {
      const r = await env.ctr([...runArgs(), '--rm', env.image.ctrRef, uniqueId('rc'), 'sh', '-c', 'exit 7']);
      expect(r.code, showRun(r)).toBe(7);
    });

    test('run --rm of a missing program fails and leaves nothing', async () => {
      const id = uniqueId('enoent');
      const r = await env.ctr([...runArgs(), '--rm', env.image.ctrRef, id, '/no/such/program']);
      expect(r.code, showRun(r)).not.toBe(0);
      // The shim reads the runtime's error from its --log file (json): it must reach the user.
      expect(r.stderr).toMatch(/no such file or directory/i);
      expect(await taskStatus(id)).toBeUndefined();
      await removeAll(id);
    });

    test('run --rm -t: the process gets a terminal (--console-socket)', async () => {
      const id = uniqueId('tty');
      // ctr -t needs a terminal on its own stdin: script(1) gives it one.
      const ctr = ['ctr', '-a', env.containerdSock, '-n', env.ns, ...runArgs(), '--rm', '-t', env.image.ctrRef, id, 'sh', '-c', 'tty; exit 3'];
      const r = await env.exec('script', ['-qec', ctr.join(' '), '/dev/null']);
      expect(r.stdout, showRun(r)).toMatch(/\/dev\/pts\/\d+/);
      expect(r.code, showRun(r)).toBe(3);
    });

    test('run -d, task exec (output and exit code), task ps', async () => {
      const id = uniqueId('exec');
      try {
        const r = await env.ctr([...runArgs(), '-d', env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, showRun(r)).toBe(0);
        await waitStatus(id, 'RUNNING');
        await expectMadeBy(id);
        const e = await env.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo in-exec; exit 5']);
        expect(e.stdout, showRun(e)).toBe('in-exec\n');
        expect(e.code, showRun(e)).toBe(5);
        const ps = await env.ctr(['task', 'ps', id]);
        expect(ps.code, showRun(ps)).toBe(0);
        const pid = (await taskStatus(id))!.pid;
        expect(ps.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]))).toContain(pid);
      } finally {
        await removeAll(id);
      }
    });

    test('pause and resume', async () => {
      const id = uniqueId('pause');
      try {
        const r = await env.ctr([...runArgs(), '-d', env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, showRun(r)).toBe(0);
        await waitStatus(id, 'RUNNING');
        await expectMadeBy(id);
        const events = join(taskCgroup((await taskStatus(id))!.pid), 'cgroup.events');
        expect(readFileSync(events, 'utf8')).toMatch(/^frozen 0$/m);
        const p = await env.ctr(['task', 'pause', id]);
        expect(p.code, showRun(p)).toBe(0);
        expect((await taskStatus(id))?.status).toBe('PAUSED');
        expect(readFileSync(events, 'utf8')).toMatch(/^frozen 1$/m); // the kernel's word, not containerd's
        const q = await env.ctr(['task', 'resume', id]);
        expect(q.code, showRun(q)).toBe(0);
        expect((await taskStatus(id))?.status).toBe('RUNNING');
        expect(readFileSync(events, 'utf8')).toMatch(/^frozen 0$/m);
      } finally {
        await removeAll(id);
      }
    });

    test('metrics', async () => {
      const id = uniqueId('metrics');
      try {
        const r = await env.ctr([...runArgs(), '-d', env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, showRun(r)).toBe(0);
        await waitStatus(id, 'RUNNING');
        await expectMadeBy(id);
        // The runtime put the task where containerd's spec says (cgroupsPath /<namespace>/<id>), as the
        // kernel shows it; the shim reads its metrics from the cgroup of the task's pid.
        const { pid } = (await taskStatus(id))!;
        expect(cgroupOf(pid)).toBe(`/${env.ns}/${id}`);
        expect(readFileSync(join(taskCgroup(pid), 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));
        const m = await env.ctr(['task', 'metrics', '--format', 'json', id]);
        expect(m.code, showRun(m)).toBe(0);
        // cgroup v2 metrics. Their values stay empty here: this host's cgroup2 has no controllers.
        expect(Object.keys(JSON.parse(m.stdout))).toEqual(expect.arrayContaining(['pids', 'cpu', 'memory']));
      } finally {
        await removeAll(id);
      }
    });

    test('kill (SIGTERM reaches the process), then task delete and container delete', async () => {
      const id = uniqueId('kill');
      try {
        const script = 'trap "exit 42" TERM; while true; do sleep 0.1; done';
        const r = await env.ctr([...runArgs(), '-d', env.image.ctrRef, id, 'sh', '-c', script]);
        expect(r.code, showRun(r)).toBe(0);
        await waitStatus(id, 'RUNNING');
        await expectMadeBy(id);
        // The trap is installed once sh catches TERM (SigCgt bit 14).
        const { pid } = (await taskStatus(id))!;
        await waitFor('sh to trap TERM', () => (BigInt('0x' + statusField(procStatus(pid), 'SigCgt')) & (1n << 14n)) !== 0n, 20_000);
        const k = await env.ctr(['task', 'kill', id]);
        expect(k.code, showRun(k)).toBe(0);
        await waitStatus(id, 'STOPPED');
        const d = await env.ctr(['task', 'delete', id]);
        expect(d.code, showRun(d)).toBe(0);
        expect(d.stdout + d.stderr).toContain('42'); // ctr prints the exit status it collected
        expect(await taskStatus(id)).toBeUndefined();
        const c = await env.ctr(['container', 'delete', id]);
        expect(c.code, showRun(c)).toBe(0);
      } finally {
        await removeAll(id);
      }
    });

    test('a running task survives SIGKILL and restart of containerd, then can be killed and deleted', async () => {
      const id = uniqueId('restart');
      try {
        const r = await env.ctr([...runArgs(), '-d', env.image.ctrRef, id, 'sleep', '1000']);
        expect(r.code, showRun(r)).toBe(0);
        await waitStatus(id, 'RUNNING');
        const before = (await taskStatus(id))!.pid;
        await env.killContainerd();
        await env.startContainerd();
        const after = await taskStatus(id);
        expect(after).toEqual({ pid: before, status: 'RUNNING' });
        const k = await env.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
        expect(k.code, showRun(k)).toBe(0);
        await waitStatus(id, 'STOPPED');
        const d = await env.ctr(['task', 'delete', id]);
        expect(d.code, showRun(d)).toBe(0);
      } finally {
        await removeAll(id);
      }
    });
  });
});
