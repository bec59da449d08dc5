// Basics without vitest: shared by the test helpers and the engine harness (which bench/engines.mjs
// bundles and runs outside vitest).
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TSRUNC_CJS = join(REPO, 'dist', 'tsrunc.cjs');

/** The environment for child processes: ours without NODE_EXTRA_CA_CERTS (it costs 40 ms per node start). */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

let idCounter = 0;
/** A container id unique within the run, valid for runc's id rules. */
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++idCounter}-${randomBytes(2).toString('hex')}`;
}

/** The process state letter (R, S, Z, ...) from /proc/<pid>/stat, or undefined when it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** The process exists and is not a zombie. */
export function alive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** SIGKILLs `child` if it still runs, and waits until Node has reaped it. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}
