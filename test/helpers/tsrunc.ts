// Runs the built CLI (dist/tsrunc.cjs) against this test file's state root.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, runId, testRoot, TSRUNC_CJS } from './env';

export interface TsruncOptions {
  /** State root; default: this test file's root under /run/tsrunc-test-*. */
  root?: string;
  /** Global flags placed before the command, e.g. ['--log', f, '--log-format', 'json']. */
  globalArgs?: string[];
  /** Written to stdin, which is otherwise /dev/null. */
  input?: string | Buffer;
  /** Kill tsrunc (SIGKILL) after this many ms; default 30000. */
  timeout?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Another build's CLI entry (a copy of dist/); default: this checkout's. */
  cjs?: string;
}

export interface TsruncResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function tsruncArgv(args: string[], opts: TsruncOptions = {}): string[] {
  return [opts.cjs ?? TSRUNC_CJS, '--root', opts.root ?? testRoot(), ...(opts.globalArgs ?? []), ...args];
}

let ioCounter = 0;
/** An unlinked temp file: a container started by `create` keeps tsrunc's stdio, so pipes would never reach EOF. */
function captureFile(): number {
  const path = join(tmpdir(), `tsrunc-test-${runId()}-io-${process.pid}-${++ioCounter}`);
  const fd = openSync(path, 'w+', 0o600);
  unlinkSync(path);
  return fd;
}

function readAll(fd: number): string {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off).toString('utf8');
}

/** `node dist/tsrunc.cjs --root R ...args`; resolves when tsrunc exits (not when its containers do). */
export function tsrunc(args: string[], opts: TsruncOptions = {}): Promise<TsruncResult> {
  const out = captureFile();
  const err = captureFile();
  const stdio: StdioOptions = [opts.input === undefined ? 'ignore' : 'pipe', out, err];
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, tsruncArgv(args, opts), { stdio, env: childEnv(opts.env), cwd: opts.cwd });
    } catch (e) {
      closeSync(out);
      closeSync(err);
      reject(e);
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeout ?? 30_000);
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {}); // tsrunc may exit before reading everything
      child.stdin!.end(opts.input);
    }
    child.on('error', (e) => {
      clearTimeout(timer);
      closeSync(out);
      closeSync(err);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout: readAll(out), stderr: readAll(err), timedOut };
      closeSync(out);
      closeSync(err);
      resolve(result);
    });
  });
}

/** Like tsrunc() but throws unless the exit code is 0; returns stdout. */
export async function tsruncOk(args: string[], opts: TsruncOptions = {}): Promise<string> {
  const r = await tsrunc(args, opts);
  if (r.code !== 0) {
    throw new Error(`tsrunc ${args.join(' ')} exited ${r.code ?? r.signal}${r.timedOut ? ' (timeout)' : ''}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** For interactive cases: the child with piped stdio, caller handles everything. */
export function spawnTsrunc(args: string[], opts: TsruncOptions & { stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(process.execPath, tsruncArgv(args, opts), {
    stdio: opts.stdio ?? 'pipe',
    env: childEnv(opts.env),
    cwd: opts.cwd,
  });
}

export interface ContainerState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export async function state(id: string, opts: TsruncOptions = {}): Promise<ContainerState> {
  return JSON.parse(await tsruncOk(['state', id], opts)) as ContainerState;
}

/** Polls `tsrunc state` until the status matches; throws after `timeout` ms. */
export async function waitForStatus(
  id: string,
  status: ContainerState['status'],
  opts: TsruncOptions & { timeout?: number } = {},
): Promise<ContainerState> {
  const deadline = Date.now() + (opts.timeout ?? 10_000);
  let last: ContainerState | undefined;
  for (;;) {
    last = await state(id, { ...opts, timeout: undefined });
    if (last.status === status) return last;
    if (Date.now() > deadline) throw new Error(`container ${id} is ${last.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
