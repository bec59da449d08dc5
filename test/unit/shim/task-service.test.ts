// The Task service's answers to bad or out-of-order requests, without containers: the codes containerd's
// errdefs map (InvalidArgument, NotFound, Unimplemented) and Shutdown/Connect with nothing running.
import { create } from '@bufbuild/protobuf';
import { describe, expect, test, vi } from 'vitest';
import { CreateTaskRequestSchema } from '../../../src/shim/proto';
import { TaskService } from '../../../src/shim/service/task';
import { statusOf, Code } from '../../../src/shim/ttrpc/errors';

function service() {
  const events: string[] = [];
  const onShutdown = vi.fn();
  const svc = new TaskService({ namespace: 'ns', events: { publish: (topic) => void events.push(topic) }, log: () => undefined, onShutdown });
  return { svc, events, onShutdown };
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<number> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return statusOf(err).code;
  }
  throw new Error('no error');
}

const req = (o: Partial<{ id: string; bundle: string; checkpoint: string }>) =>
  create(CreateTaskRequestSchema, { id: 'c1', bundle: '/nonexistent/bundle', ...o });

describe('Task service without containers', () => {
  test('Create checks the id, the bundle path and refuses checkpoints, publishing nothing', async () => {
    const { svc, events } = service();
    expect(await codeOf(svc.create(req({ id: '../etc' })))).toBe(Code.InvalidArgument);
    expect(await codeOf(svc.create(req({ id: '' })))).toBe(Code.InvalidArgument);
    expect(await codeOf(svc.create(req({ bundle: 'relative/bundle' })))).toBe(Code.InvalidArgument);
    expect(await codeOf(svc.create(req({ bundle: '/a/../b' })))).toBe(Code.InvalidArgument);
    expect(await codeOf(svc.create(req({ checkpoint: '/cp' })))).toBe(Code.Unimplemented);
    expect(events).toEqual([]);
  });

  test('every per-container method answers NotFound for an unknown id; Checkpoint is Unimplemented', async () => {
    const { svc } = service();
    const r = { id: 'nope', execId: '' };
    expect(await codeOf(() => svc.state(r))).toBe(Code.NotFound);
    expect(await codeOf(svc.start(r))).toBe(Code.NotFound);
    expect(await codeOf(svc.delete(r))).toBe(Code.NotFound);
    expect(await codeOf(svc.kill({ ...r, signal: 9, all: false }))).toBe(Code.NotFound);
    expect(await codeOf(svc.wait(r))).toBe(Code.NotFound);
    expect(await codeOf(svc.pids({ id: 'nope' }))).toBe(Code.NotFound);
    expect(await codeOf(svc.pause({ id: 'nope' }))).toBe(Code.NotFound);
    expect(await codeOf(() => svc.stats({ id: 'nope' }))).toBe(Code.NotFound);
    expect(await codeOf(() => svc.closeIO({ ...r, stdin: true }))).toBe(Code.NotFound);
    expect(await codeOf(() => svc.resizePty({ ...r, width: 80, height: 24 }))).toBe(Code.NotFound);
    expect(await codeOf(() => svc.checkpoint())).toBe(Code.Unimplemented);
  });

  test('Connect names the shim; Shutdown with nothing left ends it', async () => {
    const { svc, onShutdown } = service();
    expect(svc.connect({ id: 'x' })).toEqual({ shimPid: process.pid, taskPid: 0, version: '2' });
    svc.shutdown();
    await new Promise((r) => setImmediate(r));
    expect(onShutdown).toHaveBeenCalledOnce();
  });
});
