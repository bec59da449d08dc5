// The ttrpc server and client over a real unix socket: codes, permissions, bad input, cancellation.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { TtrpcServer, type CallContext } from '../../../src/shim/ttrpc/server';
import { TtrpcClient } from '../../../src/shim/ttrpc/client';
import { Code, NotFound, AlreadyExists, FailedPrecondition, InvalidArgument, Unimplemented, TtrpcError } from '../../../src/shim/ttrpc/errors';
import { encodeFrame, HEADER_LENGTH, MAX_MESSAGE_LENGTH } from '../../../src/shim/ttrpc/frame';
import { ConfigError } from '../../../src/runtime/errors';
import { RequestSchema } from '../../../src/shim/proto/gen/ttrpc/ttrpc_pb';
import { Task, Status, StateRequestSchema, WaitRequestSchema } from '../../../src/shim/proto';
import { RawConn } from './rawclient';

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-ttrpc-'));
const path = join(dir, 's', 'shim.sock');
const server = new TtrpcServer();
const waits: { ctx: CallContext; aborted: Promise<unknown> }[] = [];
const errorsById: Record<string, Error> = {
  nf: new NotFound('container "nf" not found'),
  ae: new AlreadyExists('exists'),
  fp: new FailedPrecondition('not running'),
  ia: new InvalidArgument('bad id'),
  un: new Unimplemented('no criu'),
  cfg: new ConfigError('process.args', 'must not be empty'),
  plain: new Error('boom'),
};

beforeAll(async () => {
  server.register(Task, {
    state(req, ctx) {
      const e = errorsById[req.id];
      if (e) throw e;
      return { id: req.id, pid: 42, status: Status.RUNNING, bundle: ctx.namespace ?? '' };
    },
    async wait(req, ctx) {
      // Never answers on its own: finishes when the call is aborted.
      const aborted = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason)));
      waits.push({ ctx, aborted });
      await aborted;
      return { exitStatus: 1 };
    },
    pids: () => ({ processes: Array.from({ length: 3 }, (_, i) => ({ pid: i + 1 })) }),
  });
  await server.listen(path);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const frameOf = (streamId: number, service: string, method: string, payload: Uint8Array, type = 1) =>
  encodeFrame(streamId, type, toBinary(RequestSchema, create(RequestSchema, { service, method, payload })));
const stateReq = (id: string) => toBinary(StateRequestSchema, create(StateRequestSchema, { id }));

describe('ttrpc server', () => {
  test('socket file is 0600 in a 0700 directory', () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 's')).mode & 0o777).toBe(0o700);
  });

  test('answers a call, with the namespace from metadata', async () => {
    const c = await TtrpcClient.connect(`unix://${path}`);
    const r = await c.call(Task.method.state, { id: 'c1' }, { namespace: 'k8s.io' });
    expect(r).toMatchObject({ id: 'c1', pid: 42, status: Status.RUNNING, bundle: 'k8s.io' });
    const p = await c.call(Task.method.pids, { id: 'c1' });
    expect(p.processes.map((x) => x.pid)).toEqual([1, 2, 3]);
    c.close();
  });

  test.each([
    ['nf', Code.NotFound, 'container "nf" not found'],
    ['ae', Code.AlreadyExists, 'exists'],
    ['fp', Code.FailedPrecondition, 'not running'],
    ['ia', Code.InvalidArgument, 'bad id'],
    ['un', Code.Unimplemented, 'no criu'],
    ['cfg', Code.InvalidArgument, 'process.args: must not be empty'],
    ['plain', Code.Unknown, 'boom'],
  ])('error %s answers code %i', async (id, code, message) => {
    const c = await TtrpcClient.connect(path);
    await expect(c.call(Task.method.state, { id })).rejects.toMatchObject({ code, message });
    c.close();
  });

  test('unknown service and method and unregistered handlers are Unimplemented', async () => {
    const raw = await RawConn.open(path);
    raw.write(frameOf(1, 'containerd.task.v3.Task', 'State', stateReq('x')));
    raw.write(frameOf(3, 'containerd.task.v2.Task', 'Frobnicate', stateReq('x')));
    raw.write(frameOf(5, 'containerd.task.v2.Task', 'Checkpoint', new Uint8Array()));
    expect((await raw.response(1)).status).toMatchObject({ code: Code.Unimplemented, message: 'service containerd.task.v3.Task' });
    expect((await raw.response(3)).status).toMatchObject({ code: Code.Unimplemented, message: 'method Frobnicate' });
    expect((await raw.response(5)).status?.code).toBe(Code.Unimplemented);
    raw.destroy();
  });

  test('bad input gets an error on its stream and the connection keeps working', async () => {
    const raw = await RawConn.open(path);
    raw.write(encodeFrame(1, 1, Buffer.from([0xff, 0xff, 0xff]))); // not a Request
    raw.write(frameOf(3, 'containerd.task.v2.Task', 'State', Buffer.from([0x0a, 0x05, 0x41]))); // truncated payload
    raw.write(frameOf(4, 'containerd.task.v2.Task', 'State', stateReq('even'))); // even stream id
    raw.write(frameOf(7, 'x', 'y', new Uint8Array(), 2)); // a response frame from a client: ignored
    const big = Buffer.alloc(HEADER_LENGTH);
    big.writeUInt32BE(MAX_MESSAGE_LENGTH + 100, 0);
    big.writeUInt32BE(9, 4);
    big[8] = 1;
    raw.write(big);
    raw.write(Buffer.alloc(MAX_MESSAGE_LENGTH + 100, 0x41)); // its payload, skipped
    raw.write(frameOf(11, 'containerd.task.v2.Task', 'State', stateReq('ok')));
    expect((await raw.response(1)).status?.code).toBe(Code.InvalidArgument);
    expect((await raw.response(3)).status?.code).toBe(Code.InvalidArgument);
    expect((await raw.response(4)).status).toMatchObject({ code: Code.InvalidArgument, message: expect.stringMatching(/odd/) });
    expect((await raw.response(9)).status?.code).toBe(Code.ResourceExhausted);
    const ok = await raw.response(11);
    expect(ok.status?.code).toBe(Code.OK);
    expect(ok.payload.length).toBeGreaterThan(0);
    expect(raw.responses.has(7)).toBe(false);
    raw.destroy();
  });

  test('a client that disconnects mid-call aborts the handler; others are not blocked', async () => {
    const before = waits.length;
    const raw = await RawConn.open(path);
    raw.write(frameOf(1, 'containerd.task.v2.Task', 'Wait', toBinary(WaitRequestSchema, create(WaitRequestSchema, { id: 'w' }))));
    const c = await TtrpcClient.connect(path);
    await expect.poll(() => waits.length).toBe(before + 1);
    expect((await c.call(Task.method.state, { id: 'other' })).pid).toBe(42);
    raw.destroy();
    const reason = await waits[before].aborted;
    expect(reason).toBeInstanceOf(TtrpcError);
    expect((reason as TtrpcError).code).toBe(Code.Canceled);
    c.close();
  });

  test('timeout_nano aborts the handler, and the client gives up with DeadlineExceeded', async () => {
    const before = waits.length;
    const c = await TtrpcClient.connect(path);
    await expect(c.call(Task.method.wait, { id: 'w2' }, { timeoutMs: 200 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    await expect.poll(() => waits.length).toBe(before + 1);
    expect(((await waits[before].aborted) as TtrpcError).code).toBe(Code.DeadlineExceeded);
    // The connection is still usable.
    expect((await c.call(Task.method.state, { id: 'x' })).pid).toBe(42);
    c.close();
  });

  test('client calls pending when the server goes away reject with Unavailable', async () => {
    const p2 = join(dir, 'two.sock');
    const s2 = new TtrpcServer().register(Task, { wait: () => new Promise(() => {}) });
    await s2.listen(p2);
    const c = await TtrpcClient.connect(p2);
    const pending = c.call(Task.method.wait, { id: 'x' });
    await expect.poll(() => s2.connections).toBe(1);
    await s2.close();
    await expect(pending).rejects.toMatchObject({ code: Code.Unavailable });
    expect(existsSync(p2)).toBe(false);
  });

  test('listen replaces a stale socket file but not a live server', async () => {
    const p3 = join(dir, 'three.sock');
    // A server that died without removing its socket file.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p3)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(p3).isSocket()).toBe(true);
    const a = new TtrpcServer();
    await a.listen(p3);
    const b = new TtrpcServer();
    await expect(b.listen(p3)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const c = await TtrpcClient.connect(p3);
    c.close();
    await a.close();
  });
});
