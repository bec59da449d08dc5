// The events publisher against a fake containerd Events service (our ttrpc server) and a fake
// publish binary: order, retry while containerd is down, rejected events, fallback, bounded queue.
import { afterAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { AnySchema, timestampDate } from '@bufbuild/protobuf/wkt';
import { TtrpcServer } from '../../../src/shim/ttrpc/server';
import { InvalidArgument } from '../../../src/shim/ttrpc/errors';
import { Publisher, TOPICS } from '../../../src/shim/events/publisher';
import { Events, TaskExitSchema, TaskOOMSchema, TaskStartSchema, unpackAny, type Envelope } from '../../../src/shim/proto';

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A stand-in for containerd's ttrpc Events service. */
async function fakeContainerd(path: string, reject?: (e: Envelope) => boolean) {
  const got: Envelope[] = [];
  const server = new TtrpcServer().register(Events, {
    forward(req) {
      if (reject?.(req.envelope!)) throw new InvalidArgument('bad event');
      got.push(req.envelope!);
      return {};
    },
  });
  await server.listen(path);
  return { got, server };
}

const fast = { minRetryMs: 20, maxRetryMs: 100, timeoutMs: 2000 };

describe('events publisher', () => {
  test('forwards envelopes in publish order with namespace, topic, timestamp and a bare-typed Any', async () => {
    const sock = join(dir, `c${n++}.sock`);
    const c = await fakeContainerd(sock);
    const pub = new Publisher({ ttrpcAddress: sock, namespace: 'ns1', ...fast });
    const before = Date.now();
    for (let i = 0; i < 50; i++) pub.publish(TOPICS.start, TaskStartSchema, { containerId: `c${i}`, pid: i });
    pub.publish(TOPICS.oom, TaskOOMSchema, { containerId: 'x' }, 'other-ns');
    expect(await pub.flush(10_000)).toBe(true);
    expect(c.got.length).toBe(51);
    expect(c.got.slice(0, 50).map((e) => unpackAny(e.event, TaskStartSchema)?.pid)).toEqual([...Array(50).keys()]);
    expect(c.got[0]).toMatchObject({ namespace: 'ns1', topic: '/tasks/start', event: { typeUrl: 'containerd.events.TaskStart' } });
    expect(c.got[50]).toMatchObject({ namespace: 'other-ns', topic: '/tasks/oom', event: { typeUrl: 'containerd.events.TaskOOM' } });
    expect(timestampDate(c.got[0].timestamp!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    await pub.close();
    await c.server.close();
  });

  test('queues while containerd is down and delivers in order once it is back, also across a restart', async () => {
    const sock = join(dir, `c${n++}.sock`);
    const pub = new Publisher({ ttrpcAddress: sock, namespace: 'ns', ...fast });
    for (let i = 0; i < 5; i++) pub.publish(TOPICS.exit, TaskExitSchema, { containerId: 'c', pid: i, exitStatus: i });
    await new Promise((r) => setTimeout(r, 300));
    expect(pub.pending).toBe(5);
    let c = await fakeContainerd(sock);
    expect(await pub.flush(10_000)).toBe(true);
    expect(c.got.map((e) => unpackAny(e.event, TaskExitSchema)?.pid)).toEqual([0, 1, 2, 3, 4]);
    // containerd restarts: the old connection breaks, events wait for the new one.
    await c.server.close();
    pub.publish(TOPICS.exit, TaskExitSchema, { containerId: 'c', pid: 5 });
    pub.publish(TOPICS.delete, TaskExitSchema, { containerId: 'c', pid: 6 });
    await new Promise((r) => setTimeout(r, 200));
    c = await fakeContainerd(sock);
    expect(await pub.flush(10_000)).toBe(true);
    expect(c.got.map((e) => e.topic)).toEqual(['/tasks/exit', '/tasks/delete']);
    await pub.close();
    await c.server.close();
  });

  test('an event containerd refuses is dropped and does not block the next ones', async () => {
    const sock = join(dir, `c${n++}.sock`);
    const c = await fakeContainerd(sock, (e) => e.topic === '/tasks/paused');
    const logs: string[] = [];
    const pub = new Publisher({ ttrpcAddress: sock, namespace: 'ns', log: (m) => logs.push(m), ...fast });
    pub.publish(TOPICS.paused, TaskOOMSchema, { containerId: 'a' });
    pub.publish(TOPICS.resumed, TaskOOMSchema, { containerId: 'b' });
    expect(await pub.flush(10_000)).toBe(true);
    expect(c.got.map((e) => e.topic)).toEqual(['/tasks/resumed']);
    expect(pub.dropped).toBe(1);
    expect(logs.join('\n')).toMatch(/rejected \/tasks\/paused: bad event/);
    await pub.close();
    await c.server.close();
  });

  test('falls back to the publish binary: containerd --address A publish --topic T --namespace N, Any on stdin', async () => {
    const out = join(dir, `pb${n++}`);
    const bin = join(dir, `publish-${n}.sh`);
    writeFileSync(bin, `#!/bin/sh\necho "$@" >> ${out}.args\ncat > ${out}.$(wc -l < ${out}.args | tr -d ' ')\n`);
    chmodSync(bin, 0o755);
    // TTRPC_ADDRESS names nothing: the binary is used.
    const pub = new Publisher({ ttrpcAddress: join(dir, 'nothing.sock'), publishBinary: bin, containerdAddress: '/run/c.sock', namespace: 'ns9', ...fast });
    pub.publish(TOPICS.exit, TaskExitSchema, { containerId: 'c1', id: 'c1', pid: 77, exitStatus: 3 });
    pub.publish(TOPICS.delete, TaskExitSchema, { containerId: 'c1' });
    expect(await pub.flush(10_000)).toBe(true);
    expect(readFileSync(`${out}.args`, 'utf8')).toBe(
      '--address /run/c.sock publish --topic /tasks/exit --namespace ns9\n--address /run/c.sock publish --topic /tasks/delete --namespace ns9\n',
    );
    const any = fromBinary(AnySchema, readFileSync(`${out}.1`));
    expect(any.typeUrl).toBe('containerd.events.TaskExit');
    expect(unpackAny(any, TaskExitSchema)).toMatchObject({ containerId: 'c1', pid: 77, exitStatus: 3 });
    expect(existsSync(`${out}.2`)).toBe(true);
    await pub.close();
  });

  test('the queue is bounded: the oldest events go first', async () => {
    const sock = join(dir, `c${n++}.sock`);
    const pub = new Publisher({ ttrpcAddress: sock, namespace: 'ns', maxQueue: 3, ...fast });
    for (let i = 0; i < 6; i++) pub.publish(TOPICS.exit, TaskExitSchema, { pid: i });
    expect(pub.pending).toBe(3);
    const c = await fakeContainerd(sock);
    expect(await pub.flush(10_000)).toBe(true);
    // The head may have been in flight when the others were dropped; the newest always survive.
    expect(c.got.map((e) => unpackAny(e.event, TaskExitSchema)?.pid).slice(-2)).toEqual([4, 5]);
    expect(pub.dropped).toBeGreaterThanOrEqual(3);
    await pub.close();
    await c.server.close();
  });

  test('close() gives up on what cannot be delivered in time', async () => {
    const pub = new Publisher({ ttrpcAddress: join(dir, 'never.sock'), namespace: 'ns', ...fast });
    pub.publish(TOPICS.oom, TaskOOMSchema, { containerId: 'x' });
    const t = Date.now();
    expect(await pub.close(300)).toBe(false);
    expect(Date.now() - t).toBeLessThan(2000);
    expect(pub.pending).toBe(0);
  });
});
