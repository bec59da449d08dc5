// containerMembers: which processes of a shared cgroup `kill --all` may signal (real processes, no cgroup).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { containerMembers } from '../../../src/runtime/cgroups/members';

const started: ChildProcess[] = [];
afterAll(() => {
  for (const p of started) {
    try {
      process.kill(-p.pid!, 'SIGKILL'); // each its own process group (detached): the shells' children too
    } catch {
      // gone
    }
  }
});

function start(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { stdio: 'ignore', detached: true });
  started.push(p);
  return p;
}

/** The children of `pid` (a shell that started them in the background), once there are `n`. */
async function childrenOf(pid: number, n: number): Promise<number[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    if (kids.length >= n) return kids;
    if (Date.now() > end) throw new Error(`process ${pid} has ${kids.length} children, not ${n}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const mntOf = (pid: number) => readlinkSync(`/proc/${pid}/ns/mnt`);

describe.skipIf(process.getuid?.() !== 0)('containerMembers', () => {
  it('in our mount namespace: the init and its descendants, not an unrelated process', async () => {
    const init = start('sh', ['-c', 'sh -c "sleep 1000 & wait" & wait']);
    const [child] = await childrenOf(init.pid!, 1);
    const [grandchild] = await childrenOf(child!, 1);
    const other = start('sleep', ['1000']);
    const pids = [other.pid!, grandchild!, init.pid!, child!];
    expect(containerMembers(pids, init.pid!).sort()).toEqual([init.pid!, child!, grandchild!].sort());
  });

  it('in a mount namespace of its own: every process of that namespace, not ours', async () => {
    const init = start('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'sleep 1000 & wait']);
    const end = Date.now() + 10_000;
    while (mntOf(init.pid!) === mntOf(process.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    // unshare execs the shell in the new namespace
    const [child] = await childrenOf(init.pid!, 1);
    expect(mntOf(child!)).toBe(mntOf(init.pid!));
    const other = start('sleep', ['1000']);
    expect(containerMembers([other.pid!, child!, init.pid!], init.pid!).sort()).toEqual([init.pid!, child!].sort());
  });

  it('nothing once the init is gone', async () => {
    const gone = start('true', []);
    await new Promise((r) => gone.once('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    const other = start('sleep', ['1000']);
    expect(containerMembers([other.pid!], gone.pid!)).toEqual([]);
  });
});
