// The shim binary's `start` when its group's shim already runs (a pod's second container): the C launcher
// (native/shimlaunch/reserve.c) asks that shim for a reservation itself and answers containerd with its
// address, without Node. The shim here is the real Task service on a real ttrpc socket at the path the
// launcher computes; every launcher runs with PATH=/nonexistent, so any fallback to Node fails (127).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { Task } from '../../src/shim/proto';
import { shimSocketAddress, socketPath } from '../../src/shim/ttrpc/address';
import { TaskService } from '../../src/shim/service/task';
import { TtrpcServer } from '../../src/shim/ttrpc/server';
import { childEnv, REPO } from '../helpers/base';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const root = process.getuid?.() === 0;
const NS = 'ns1';
const GROUP = 'pod-1';

describe.skipIf(!root)('shim launcher: start joining a live group shim', () => {
  let dir = '';
  let bundle = '';
  let address = '';
  let sock = '';
  let server: TtrpcServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsrunc-launcher-start-'));
    bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', annotations: { 'io.containerd.runc.v2.group': GROUP } }));
    // A containerd address of this test's own: the socket name (a hash of it) is nobody else's.
    address = join(dir, 'containerd.sock');
    sock = socketPath(shimSocketAddress(address, NS, GROUP));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await server?.close();
    server = undefined;
    rmSync(sock, { force: true });
    rmSync(`${sock}.pid`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  /** The group's shim on its socket; `onShutdown` as the daemon's: its socket file goes, then it closes. */
  async function groupShim(opts: { socketGoesAfterMs?: number } = {}) {
    const svc = new TaskService({
      namespace: NS,
      events: { publish: () => undefined },
      log: () => undefined,
      onShutdown: () => {
        setTimeout(() => {
          rmSync(sock, { force: true });
          void server?.close();
        }, opts.socketGoesAfterMs ?? 0);
      },
    });
    const connect = vi.spyOn(svc, 'connect');
    server = new TtrpcServer().register(Task, svc.handlers());
    mkdirSync(dirname(sock), { recursive: true, mode: 0o700 });
    await server.listen(sock);
    return { svc, connect };
  }

  /** `SHIM ... -id ID start` in the bundle, stdin /dev/null (no options), without Node on PATH. */
  function start(id: string): Promise<{ rc: number | null; stdout: string; stderr: string }> {
    const args = ['-namespace', NS, '-address', address, '-publish-binary', '/usr/bin/containerd', '-id', id, 'start'];
    const child = spawn(SHIM, args, { cwd: bundle, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv({ PATH: '/nonexistent' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    return new Promise((res) => child.on('close', (rc) => res({ rc, stdout, stderr })));
  }

  test('a live shim takes a reservation: its address and pid, no Node, and it stays until the Create', async () => {
    const { svc, connect } = await groupShim();
    writeFileSync(`${sock}.pid`, '4242');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = await start('c2');
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout).toBe(`unix://${sock}`);
    expect(readFileSync(join(bundle, 'address'), 'utf8')).toBe(`unix://${sock}`);
    expect(readFileSync(join(bundle, 'shim.pid'), 'utf8')).toBe('4242');
    // The launcher's own frame, decoded by the real server: Connect(c2) with the reservation metadata.
    expect(connect).toHaveBeenCalledOnce();
    expect(connect.mock.calls[0]![0].id).toBe('c2');
    expect(connect.mock.calls[0]![1]?.metadata.get('tsrunc-reserve')).toEqual(['c2']);
    // Reserved: containerd's Shutdown (its other container deleted) does not take the shim down ...
    svc.shutdown();
    expect(existsSync(sock)).toBe(true);
    // ... until the reservation lapses without a Create.
    vi.advanceTimersByTime(30_000);
    await new Promise((res) => setImmediate(res));
    vi.advanceTimersByTime(1);
    expect(existsSync(sock)).toBe(false);
  });

  test('a shim that is shutting down refuses; once its socket goes, start binds a new shim', async () => {
    const { svc, connect } = await groupShim({ socketGoesAfterMs: 100 });
    svc.shutdown();
    const r = await start('c3');
    // It asked (and was refused) until the socket went, then bound the path and spawned a server: `node`
    // is not on PATH here, so that spawn fails, and the socket it bound is removed again.
    expect(connect.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(r.rc).toBe(1);
    expect(r.stderr).toMatch(/start the shim server/);
    expect(r.stdout).toBe('');
    expect(existsSync(join(bundle, 'address'))).toBe(false);
    expect(existsSync(sock)).toBe(false);
  });
});
