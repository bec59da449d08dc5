// Tasks as `ctr` shows them, shared by the engine tests that drive containerd (runc's shim and ours).
import type { EngineEnv } from './harness';

/** Task status from `ctr task ls` (RUNNING, PAUSED, STOPPED, ...), or undefined if there is no task. */
export async function taskStatus(env: EngineEnv, id: string): Promise<{ pid: number; status: string } | undefined> {
  const r = await env.ctr(['task', 'ls']);
  for (const line of r.stdout.split('\n').slice(1)) {
    const [task, pid, status] = line.trim().split(/\s+/);
    if (task === id) return { pid: Number(pid), status };
  }
  return undefined;
}

/** Polls `ctr task ls` until the task has `status`; fails with the last status seen after `ms`. */
export async function waitStatus(env: EngineEnv, id: string, status: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last: string | undefined;
  while (Date.now() < deadline) {
    last = (await taskStatus(env, id))?.status;
    if (last === status) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} is ${last}, not ${status}`);
}

/** Removes a task and its container whatever state they are in. */
export async function removeAll(env: EngineEnv, id: string): Promise<void> {
  await env.ctr(['task', 'kill', '-s', 'SIGKILL', id], { timeout: 10_000 });
  await env.ctr(['task', 'delete', '-f', id], { timeout: 10_000 });
  await env.ctr(['container', 'delete', id], { timeout: 10_000 });
}
