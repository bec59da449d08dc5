// The state lock while another process (a tsrunc CLI, here flock(1) on the same directory) holds it:
// the wait happens off the event loop, so a shim serving other containers keeps running meanwhile,
// and the lock is ours as soon as the other process lets go.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../../src/runtime/state/store';

const root = mkdtempSync(join(tmpdir(), 'tsrunc-unit-lock-'));
const holders: ChildProcess[] = [];
afterAll(() => {
  for (const h of holders) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function container(id: string): string {
  const dir = join(root, id);
  mkdirSync(dir, { mode: 0o711 });
  writeFileSync(join(dir, 'state.json'), '{}');
  return dir;
}

/**
 * flock(1) holding `dir` until its stdin closes (at most 4 s, so that a lock taken synchronously, which
 * stops this loop, ends in a failed assertion instead of a hang); resolves once it holds the lock.
 */
async function holdElsewhere(dir: string): Promise<ChildProcess> {
  const h = spawn('flock', ['-x', dir, 'sh', '-c', 'echo held; exec timeout 4 cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  holders.push(h);
  await new Promise<void>((resolve, reject) => {
    h.stdout!.once('data', () => resolve());
    h.once('exit', (code) => reject(new Error(`flock exited ${code}`)));
  });
  return h;
}

/** Whether another process could take the lock on `dir` right now. */
const freeForOthers = (dir: string) => spawnSync('flock', ['-n', '-x', dir, 'true']).status === 0;

describe('StateStore.lock while another process holds the lock', () => {
  it('waits without blocking the event loop, then holds the lock once the other process lets go', async () => {
    const dir = container('held');
    const holder = await holdElsewhere(dir);
    const store = new StateStore(root);
    let got = false;
    const locking = store.lock('held').then((l) => {
      got = true;
      return l;
    });
    // The loop keeps turning: timers fire on time while the lock is waited for.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    await new Promise((r) => setTimeout(r, 600));
    clearInterval(timer);
    expect(got).toBe(false);
    expect(ticks).toBeGreaterThanOrEqual(20);

    const released = Date.now();
    holder.stdin!.end();
    const locked = await locking;
    expect(Date.now() - released).toBeLessThan(3000);
    expect(freeForOthers(dir)).toBe(false);
    locked.release();
    expect(freeForOthers(dir)).toBe(true);
  });

  it('an uncontended lock is taken at once; one released while waited for is not leaked', async () => {
    const dir = container('free');
    const store = new StateStore(root);
    const l = await store.lock('free');
    expect(freeForOthers(dir)).toBe(false);
    // A second lock on the same directory in this process waits for the first (flock is per open file).
    const second = store.lock('free');
    let got = false;
    void second.then(() => (got = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toBe(false);
    l.release();
    const l2 = await second;
    expect(freeForOthers(dir)).toBe(false);
    l2.release();
    expect(freeForOthers(dir)).toBe(true);
  });

  it('a directory removed while its lock was waited for is "does not exist"', async () => {
    const dir = container('gone');
    const holder = await holdElsewhere(dir);
    const locking = new StateStore(root).lock('gone');
    await new Promise((r) => setTimeout(r, 100));
    rmSync(dir, { recursive: true });
    holder.stdin!.end();
    await expect(locking).rejects.toThrow(/does not exist/);
  });
});
