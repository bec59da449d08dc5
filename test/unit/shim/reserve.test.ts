// `start`'s reservation of a grouped shim (service/reserve.ts) against the real Task service on a real
// ttrpc socket: a reservation holds off Shutdown until its Create or its expiry; once Shutdown has been
// decided, reservations are refused; a socket nobody serves is "going".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { Task } from '../../../src/shim/proto';
import { reserve } from '../../../src/shim/service/reserve';
import { TaskService } from '../../../src/shim/service/task';
import { TtrpcServer } from '../../../src/shim/ttrpc/server';

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-reserve-'));
const servers: TtrpcServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.useRealTimers());

let n = 0;
async function shim() {
  const onShutdown = vi.fn();
  const svc = new TaskService({ namespace: 'ns', events: { publish: () => undefined }, log: () => undefined, onShutdown });
  const server = new TtrpcServer().register(Task, svc.handlers());
  const path = join(dir, `s${++n}`, 'shim.sock');
  await server.listen(path);
  servers.push(server);
  return { svc, onShutdown, path };
}
const turn = () => new Promise((r) => setImmediate(r));

describe('reserving a grouped shim for a new container', () => {
  test('a reserved shim does not shut down until the reservation expires', async () => {
    const { svc, onShutdown, path } = await shim();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(await reserve(path, 'c2')).toBe('reserved');
    svc.shutdown();
    await turn();
    expect(onShutdown).not.toHaveBeenCalled();
    // containerd never sends the Create: the reservation lapses and the shim goes.
    vi.advanceTimersByTime(30_000);
    await turn();
    expect(onShutdown).toHaveBeenCalledOnce();
  });

  test('once Shutdown is decided, a reservation is refused ("going")', async () => {
    const { svc, onShutdown, path } = await shim();
    svc.shutdown();
    expect(await reserve(path, 'c3')).toBe('going');
    await turn();
    expect(onShutdown).toHaveBeenCalledOnce();
  });

  test('a bad id is no reservation; a socket nobody serves is "going"', async () => {
    const { path } = await shim();
    expect(await reserve(path, '../x')).toBe('silent');
    expect(await reserve(join(dir, 'none.sock'), 'c4')).toBe('going');
  });
});
