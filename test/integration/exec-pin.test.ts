// exec joins the init's namespaces by /proc/<pid>; the helper pins that pid by its start time first
// (OP_PIN_PID) and checks, once everything is opened, that it is still the same process (OP_CHECK_PIN):
// a pid reused after the init was reaped is never joined. Driven here with tsrunc-init and small plans
// against a `sleep` standing in for the init, killed at the moment an exec would be opening its files.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { HelperSession } from '../../src/runtime/helper';
import { Plan, s, u64 } from '../../src/runtime/plan/encode';
import { Msg } from '../../src/runtime/plan/ops';
import { processStartTime } from '../../src/runtime/state/status';
import { killChild } from '../helpers/base';

let init: ChildProcess | undefined;
afterEach(async () => {
  await killChild(init);
  init = undefined;
});

async function startInit(): Promise<{ pid: number; start: number }> {
  init = spawn('sleep', ['1000'], { stdio: 'ignore' });
  await once(init, 'spawn');
  return { pid: init.pid!, start: processStartTime(init.pid!)! };
}

/** Runs `plan` in tsrunc-init; returns the SYNC names it reached and how it ended (its error line). */
async function runPlan(plan: Plan, onSync: (name: string) => Promise<void> = async () => {}): Promise<{ synced: string[]; ended: string }> {
  const devNull = openSync('/dev/null', 'r+');
  const session = HelperSession.spawn([devNull, devNull, devNull], -1);
  closeSync(devNull);
  const synced: string[] = [];
  try {
    session.sendPlan(plan.encode());
    for (let msg = await session.next(); msg; msg = await session.next()) {
      if (msg.tag !== Msg.SYNC) continue;
      synced.push(msg.payload);
      await onSync(msg.payload);
      session.send(Msg.GO);
    }
    return { synced, ended: 'no error' };
  } catch (err) {
    return { synced, ended: (err as Error).message };
  } finally {
    await session.abort().catch(() => undefined);
    session.close();
  }
}

const pinned = (pid: number, start: number) =>
  new Plan()
    .add('PIN_PID', 'exec', u64(pid), u64(start))
    .add('SYNC', 'test', s('pinned'))
    .add('CHECK_PIN', 'exec')
    .add('SYNC', 'test', s('checked'));

it('the pinned process still there: the check passes', async () => {
  const { pid, start } = await startInit();
  const r = await runPlan(pinned(pid, start));
  expect(r.synced).toEqual(['pinned', 'checked']);
  expect(r.ended).toMatch(/plan ended without exec/);
});

it('gone between the pin and the check (its pid free for another process): the exec stops there', async () => {
  const { pid, start } = await startInit();
  const r = await runPlan(pinned(pid, start), async (name) => {
    if (name !== 'pinned') return;
    init!.kill('SIGKILL');
    await once(init!, 'exit'); // reaped: the number may now name anything
  });
  expect(r.synced).toEqual(['pinned']);
  expect(r.ended).toBe("exec: the container's init has exited");
});

it('a pid whose process started at another time is refused at the pin', async () => {
  const { pid, start } = await startInit();
  const r = await runPlan(pinned(pid, start + 1));
  expect(r.synced).toEqual([]);
  expect(r.ended).toBe(`exec: the container's init (pid ${pid}) has exited`);
});
