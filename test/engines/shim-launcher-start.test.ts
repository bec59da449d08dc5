// The shim binary's `start` when its group's shim already runs (a pod's second container): the C launcher
// (native/shimlaunch/reserve.c) asks that shim for a reservation itself and answers containerd with its
// address, without Node; shim options that only choose the grouping are read in C too (options.c). The
// shim here is the real Task service on a real ttrpc socket at the path the launcher computes; launchers
// run with PATH=/nonexistent unless a case needs the Node `start`, so any fallback to Node fails (127).
import { spawn } from 'node:child_process';
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
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
  const sockOf = (group: string) => socketPath(shimSocketAddress(address, NS, group));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsrunc-launcher-start-'));
    bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', annotations: { 'io.containerd.runc.v2.group': GROUP } }));
    // A containerd address of this test's own: the socket name (a hash of it) is nobody else's.
    address = join(dir, 'containerd.sock');
    sock = sockOf(GROUP);
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
  async function groupShim(opts: { socketGoesAfterMs?: number; group?: string } = {}) {
    sock = sockOf(opts.group ?? GROUP);
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
    // as `start` writes it for the server it spawned (later starts copy it to their bundle's shim.pid)
    writeFileSync(`${sock}.pid`, '4242');
    return { svc, connect };
  }

  /**
   * `SHIM ... -id ID start` in the bundle, without Node on PATH unless `node`; stdin /dev/null (no options),
   * or a pipe with `options` as containerd writes them.
   */
  function start(id: string, opts: { options?: Uint8Array; node?: boolean } = {}): Promise<{ rc: number | null; stdout: string; stderr: string }> {
    const args = ['-namespace', NS, '-address', address, '-publish-binary', '/usr/bin/containerd', '-id', id, 'start'];
    const env = childEnv(opts.node ? {} : { PATH: '/nonexistent' });
    const child = spawn(SHIM, args, { cwd: bundle, stdio: [opts.options ? 'pipe' : 'ignore', 'pipe', 'pipe'], env });
    child.stdin?.end(opts.options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    return new Promise((res) => child.on('close', (rc) => res({ rc, stdout, stderr })));
  }

  test('a live shim takes a reservation: its address and pid, no Node, and it stays until the Create', async () => {
    const { svc, connect } = await groupShim();
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

  /** An Any of runtimeoptions.v1.Options { config_path = 2; config_body = 3 } (ctr --runtime-config-path, CRI ConfigPath). */
  function runtimeOptions(o: { path?: string; body?: string; typeUrl?: string }): Uint8Array {
    const w = new BinaryWriter();
    if (o.typeUrl) w.tag(1, WireType.LengthDelimited).string(o.typeUrl);
    if (o.path) w.tag(2, WireType.LengthDelimited).string(o.path);
    if (o.body) w.tag(3, WireType.LengthDelimited).string(o.body);
    return toBinary(AnySchema, create(AnySchema, { typeUrl: 'runtimeoptions.v1.Options', value: w.finish() }));
  }

  test('options that group by namespace (a config body): the namespace shim is joined without Node', async () => {
    const { connect } = await groupShim({ group: '.tsrunc-namespace' });
    // (type_url set too, as a CRI options table may: a field the shim does not use)
    const r = await start('c4', { options: runtimeOptions({ body: '{"group": "namespace"}', typeUrl: 'io.containerd.tsrunc.v1.Options' }) });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout).toBe(`unix://${sockOf('.tsrunc-namespace')}`);
    expect(connect).toHaveBeenCalledOnce();
  });

  test('options naming a config file (ConfigPath) with a root: read in C, and the grouping follows it', async () => {
    writeFileSync(join(dir, 'ns.json'), JSON.stringify({ root: '/run/tsrunc-elsewhere', group: 'namespace' }));
    await groupShim({ group: '.tsrunc-namespace' });
    const r = await start('c5', { options: runtimeOptions({ path: join(dir, 'ns.json') }) });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout).toBe(`unix://${sockOf('.tsrunc-namespace')}`);
  });

  test('options that keep the sandbox grouping: the annotation decides, as without options', async () => {
    writeFileSync(join(dir, 'sandbox.json'), JSON.stringify({ root: '/run/tsrunc-elsewhere' }));
    await groupShim();
    const r = await start('c6', { options: runtimeOptions({ path: join(dir, 'sandbox.json') }) });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout).toBe(`unix://${sockOf(GROUP)}`);
  });

  test('options the launcher does not decide go to the Node start with the same bytes on its stdin', async () => {
    await groupShim({ group: '.tsrunc-namespace' });
    const bad = runtimeOptions({ body: '{"group": "pod"}' });
    expect((await start('c7', { options: bad })).rc).toBe(127);
    // Node reads what the launcher read: the error names the body's bad group (with an empty stdin it
    // would have started a shim of the default grouping instead).
    const r = await start('c7', { options: bad, node: true });
    expect(r.rc).toBe(1);
    expect(r.stderr).toMatch(/options.config_body: group: must be "sandbox" or "namespace"/);
    expect(r.stdout).toBe('');
    // runc's options, a relative root, a missing config file: the same
    for (const options of [
      toBinary(AnySchema, create(AnySchema, { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array() })),
      runtimeOptions({ body: '{"root": "relative"}' }),
      runtimeOptions({ path: join(dir, 'missing.json') }),
    ])
      expect((await start('c8', { options })).rc).toBe(127);
    // A config.json that JSON.parse rejects fails the Node start, whatever the grouping.
    writeFileSync(join(bundle, 'config.json'), '{"annotations": ');
    expect((await start('c9', { options: runtimeOptions({ body: '{"group": "namespace"}' }) })).rc).toBe(127);
  });
});
