// Shared by the in-VM cgroup tests: guard, and processes that wait for a go signal after being moved.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** True only inside the throw-away VM of test/vm (pure cgroup v2 at /sys/fs/cgroup with all controllers). */
export function inTestVm(): boolean {
  if (hostname() !== 'tsrunc-vm' || !existsSync('/sys/fs/cgroup/cgroup.controllers')) return false;
  return /\bmemory\b/.test(readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8'));
}

export interface Held {
  child: ChildProcess;
  pid: number;
  /** Let the shell run its script (after it was moved into a cgroup). */
  go(): void;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const all: ChildProcess[] = [];

/** SIGKILL every held process still running (afterAll). */
export function killHeld(): void {
  for (const c of all) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** `sh -c script` that first waits for one line on stdin. */
export async function held(script: string): Promise<Held> {
  const child = spawn('/bin/sh', ['-c', `read _go; ${script}`], { stdio: ['pipe', 'ignore', 'pipe'] });
  all.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((res) =>
    child.once('close', (code, signal) => res({ code, signal, stderr })), // after exit and stdio EOF
  );
  await new Promise((r) => child.once('spawn', r));
  return { child, pid: child.pid!, go: () => child.stdin!.end('go\n'), exit };
}
