// Our ttrpc client and events publisher against the real containerd 1.6: containerd accepts the
// Forward on its ttrpc socket (TTRPC_ADDRESS) and the `publish` fallback, decodes our Any payloads
// (ctr events prints them as JSON only if typeurl resolved the type), and answers a bad envelope with a
// status our publisher treats as final.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, EngineEnv, installed } from './harness';
import { Publisher, TOPICS } from '../../src/shim/events/publisher';
import { TtrpcClient } from '../../src/shim/ttrpc/client';
import { Code } from '../../src/shim/ttrpc/errors';
import { Events, TaskDeleteSchema, TaskExitSchema, TaskOOMSchema, TaskExecAddedSchema, packAny, timestampFromMs } from '../../src/shim/proto';

const haveContainerd = installed('containerd') && installed('ctr');

describe.skipIf(!haveContainerd)('events to the real containerd 1.6', () => {
  let env: EngineEnv;
  let events: ChildProcess | undefined;
  let out = '';

  /** Starts `ctr events` and returns once it is subscribed. */
  async function subscribe(marker: string): Promise<void> {
    // `ctr events` only needs containerd's socket, so it runs outside the engine namespace.
    events = spawn('ctr', ['-a', env.containerdSock, 'events'], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    events.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    events.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    // Subscribed once a marker event comes through (ctr publishes nothing by itself: use containerd's
    // publish command, which also proves that path).
    const deadline = Date.now() + 20_000;
    const probe = new Publisher({ namespace: env.ns, publishBinary: '/usr/bin/containerd', containerdAddress: env.containerdSock });
    while (!out.includes(marker) && Date.now() < deadline) {
      probe.publish(TOPICS.oom, TaskOOMSchema, { containerId: marker });
      await probe.flush(5000);
      await new Promise((r) => setTimeout(r, 200));
    }
    await probe.close();
    expect(out).toContain(marker);
  }

  beforeAll(async () => {
    env = await EngineEnv.start();
    await subscribe('subscribed-probe');
  });

  afterAll(async () => {
    if (events?.pid) events.kill('SIGKILL');
    await env?.stop();
  });

  const lineWith = async (needle: string): Promise<string> => {
    await expect.poll(() => out.includes(needle), { timeout: 10_000 }).toBe(true);
    return out.split('\n').find((l) => l.includes(needle))!;
  };

  test('Forward on the ttrpc address: TaskOOM and TaskExit arrive decoded, in order', async () => {
    const pub = new Publisher({ ttrpcAddress: `${env.containerdSock}.ttrpc`, namespace: env.ns });
    pub.publish(TOPICS.oom, TaskOOMSchema, { containerId: 'oom-ttrpc' });
    pub.publish(TOPICS.exit, TaskExitSchema, { containerId: 'exit-ttrpc', id: 'exit-ttrpc', pid: 4242, exitStatus: 137, exitedAt: timestampFromMs(Date.UTC(2026, 0, 2, 3, 4, 5)) });
    expect(await pub.flush(10_000)).toBe(true);
    const oom = await lineWith('oom-ttrpc');
    expect(oom).toContain(` ${env.ns} /tasks/oom {"container_id":"oom-ttrpc"}`);
    const exit = await lineWith('exit-ttrpc');
    expect(exit).toContain('/tasks/exit');
    expect(exit).toMatch(/"pid":4242/);
    expect(exit).toMatch(/"exit_status":137/);
    expect(exit).toMatch(/"exited_at":"2026-01-02T03:04:05Z"/);
    expect(out.indexOf('oom-ttrpc')).toBeLessThan(out.indexOf('exit-ttrpc'));
    await pub.close();
  });

  test('the publish binary fallback when the ttrpc address is unusable', async () => {
    const pub = new Publisher({
      ttrpcAddress: `${env.dir}/no-such.sock`,
      publishBinary: '/usr/bin/containerd',
      containerdAddress: env.containerdSock,
      namespace: env.ns,
    });
    pub.publish(TOPICS.execAdded, TaskExecAddedSchema, { containerId: 'c-bin', execId: 'e-bin' });
    expect(await pub.flush(15_000)).toBe(true);
    expect(await lineWith('e-bin')).toContain('/tasks/exec-added {"container_id":"c-bin","exec_id":"e-bin"}');
    await pub.close();
  });

  test('containerd answers a bad envelope with InvalidArgument; the publisher drops it and goes on', async () => {
    const client = await TtrpcClient.connect(`unix://${env.containerdSock}.ttrpc`);
    const bad = client.call(Events.method.forward, {
      envelope: { timestamp: timestampFromMs(Date.now()), namespace: env.ns, topic: 'no-leading-slash', event: packAny(TaskOOMSchema, { containerId: 'x' }) },
    });
    await expect(bad).rejects.toMatchObject({ code: Code.InvalidArgument });
    // An unknown service on containerd's ttrpc server is Unimplemented, the same code we answer.
    await expect(client.callRaw('containerd.nothing.v1.Nope', 'Forward', new Uint8Array())).rejects.toMatchObject({ code: Code.Unimplemented });
    client.close();

    const logs: string[] = [];
    const pub = new Publisher({ ttrpcAddress: `${env.containerdSock}.ttrpc`, namespace: env.ns, log: (m) => logs.push(m) });
    pub.publish('bad-topic', TaskOOMSchema, { containerId: 'dropped-one' });
    pub.publish(TOPICS.oom, TaskOOMSchema, { containerId: 'after-bad' });
    expect(await pub.flush(10_000)).toBe(true);
    await lineWith('after-bad');
    expect(out).not.toContain('dropped-one');
    expect(pub.dropped).toBe(1);
    await pub.close();
  });

  test('events published while containerd is down are delivered in order after it restarts', { timeout: 120_000 }, async () => {
    // The publisher reaches containerd through a symlink made only once the new `ctr events` listens,
    // so the test cannot miss a delivery that happens before the subscription.
    const link = join(env.dir, 'ttrpc-link.sock');
    symlinkSync(`${env.containerdSock}.ttrpc`, link);
    const pub = new Publisher({ ttrpcAddress: link, namespace: env.ns, minRetryMs: 50, maxRetryMs: 500 });
    pub.publish(TOPICS.oom, TaskOOMSchema, { containerId: 'before-kill' });
    expect(await pub.flush(10_000)).toBe(true);
    await lineWith('before-kill');

    await env.killContainerd();
    if (events?.pid) events.kill('SIGKILL');
    rmSync(link);
    pub.publish(TOPICS.exit, TaskExitSchema, { containerId: 'while-down', id: 'while-down', pid: 1, exitStatus: 9 });
    pub.publish(TOPICS.delete, TaskDeleteSchema, { containerId: 'while-down', pid: 1, exitStatus: 9 });
    expect(await pub.flush(1000)).toBe(false);
    expect(pub.pending).toBe(2);

    await env.startContainerd();
    await subscribe('resubscribed-probe');
    symlinkSync(`${env.containerdSock}.ttrpc`, link);
    expect(await pub.flush(20_000)).toBe(true);
    await lineWith('/tasks/delete {"container_id":"while-down"');
    const exit = out.indexOf('/tasks/exit {"container_id":"while-down"');
    const del = out.indexOf('/tasks/delete {"container_id":"while-down"');
    expect(exit, out).toBeGreaterThan(0);
    expect(del).toBeGreaterThan(exit);
    await pub.close();
    rmSync(link);
  });
});

