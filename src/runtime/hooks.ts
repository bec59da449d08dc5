// OCI hooks the runtime runs itself, in its own namespaces: prestart, createRuntime, poststart, poststop.
// (createContainer and startContainer run inside the container: tsrunc-init's OP_HOOK.)
import fs from 'node:fs';
import type { Hook, Spec } from './config/types';
import { errnoCode, RuntimeError } from './errors';
import { hookStubPath, native } from './native';
import { SIGKILL } from './pidfd';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

/** The OCI state (runtime.md "State") a hook reads on stdin. */
export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** A hook that failed; the message names it, e.g. `hooks.poststart[1]: exit status 3`. */
export class HookError extends RuntimeError {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'HookError';
  }
}

/** Bytes of a failed hook's output kept for the error message. */
const OUTPUT_LIMIT = 1024;

/**
 * Runs one hook with the state JSON on stdin; resolves when it exits 0, else throws a HookError. The
 * process, its pipes and its wait go through the addon (native/addon/hookproc.cc), not child_process:
 * ~20 ms of a cold create's CPU per hook.
 */
export async function runHook(hook: Hook, where: string, state: HookState, onSpawn?: (pid: number) => void): Promise<void> {
  const { child, output } = spawnHook(hook, where, state, onSpawn);
  let timedOut = false;
  const timer =
    hook.timeout !== undefined
      ? setTimeout(() => {
          timedOut = true;
          native().pidfdSendSignal(child.pidfd, SIGKILL);
        }, hook.timeout * 1000)
      : undefined;
  const status = await waitHook(child.pidfd, output).finally(() => clearTimeout(timer));
  const fail = (message: string) => {
    const text = output.text().trimEnd();
    return new HookError(where, text ? `${message}: ${text}` : message);
  };
  if (timedOut) throw fail(`timed out after ${hook.timeout} s (killed)`);
  if (status.signal !== null) throw fail(`killed by signal ${status.signal}`);
  if (status.code !== 0) throw fail(`exit status ${status.code}`);
}

/**
 * Starts the hook: stdin a pipe already holding the state, stdout and stderr one pipe of ours. With
 * onSpawn (create's write-ahead journal), through a stub that execs the hook only once its pid is
 * recorded: a create killed in between leaves no hook behind that delete cannot find.
 */
function spawnHook(hook: Hook, where: string, state: HookState, onSpawn?: (pid: number) => void) {
  const addon = native();
  const closeAll = (...fds: number[]) => fds.forEach((fd) => fd >= 0 && fs.closeSync(fd));
  const args = hook.args?.length ? hook.args : [hook.path];
  if (onSpawn) {
    try {
      fs.accessSync(hook.path, fs.constants.X_OK);
    } catch (err) {
      throw new HookError(where, `exec ${hook.path}: ${errnoText(err as NodeJS.ErrnoException)}`);
    }
  }
  const stdin = addon.readerOf(JSON.stringify(state));
  const [outRead, outWrite] = addon.pipe(true);
  const [goRead, goWrite] = onSpawn ? addon.pipe() : [-1, -1];
  let child: { pid: number; pidfd: number };
  try {
    child = onSpawn
      ? addon.spawnProcess(hookStubPath(), [hookStubPath(), hook.path, ...args], hookEnv(hook), [stdin, outWrite, outWrite, goRead])
      : addon.spawnProcess(hook.path, args, hookEnv(hook), [stdin, outWrite, outWrite]);
  } catch (err) {
    closeAll(outRead, goWrite);
    throw new HookError(where, `exec ${hook.path}: ${errnoText(err as NodeJS.ErrnoException)}`);
  } finally {
    closeAll(stdin, outWrite, goRead);
  }
  if (onSpawn) {
    onSpawn(child.pid);
    try {
      fs.writeSync(goWrite, 'g');
    } catch {
      // the stub is gone already (killed): its exit status says so
    } finally {
      fs.closeSync(goWrite);
    }
  }
  return { child, output: new OutputKept(outRead) };
}

/**
 * Reads the hook's output until it exits (not until EOF: a daemon it left behind may hold the pipe
 * forever; what the hook wrote is in the pipe by then), reaps it and closes its fds. One wait on an
 * epoll fd of the pipe and the pidfd; on the pidfd alone once the pipe is at EOF, which would
 * otherwise wake us in a loop while a hook that closed its output runs on.
 */
async function waitHook(pidfd: number, output: OutputKept): Promise<{ code: number | null; signal: number | null }> {
  const either = native().epollOf([output.fd, pidfd]);
  try {
    for (;;) {
      output.drain();
      const status = native().reapPidfd(pidfd);
      if (status) {
        output.drain();
        return status;
      }
      await native().waitReadable(output.open ? either : pidfd);
    }
  } finally {
    [either, output.fd, pidfd].forEach((fd) => fs.closeSync(fd));
  }
}

/** A hook's stdout and stderr (one pipe, non-blocking): all of it read, the first OUTPUT_LIMIT bytes kept. */
class OutputKept {
  open = true;
  private kept: Buffer[] = [];
  private length = 0;
  private readonly buf = Buffer.allocUnsafe(65536);
  constructor(readonly fd: number) {}

  /** Reads what the pipe holds now; at EOF (every writer gone) `open` turns false. */
  drain(): void {
    while (this.open) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw err;
      }
      if (n === 0) this.open = false;
      else if (this.length < OUTPUT_LIMIT) {
        this.kept.push(Buffer.from(this.buf.subarray(0, Math.min(n, OUTPUT_LIMIT - this.length))));
        this.length += n;
      }
    }
  }

  text(): string {
    return Buffer.concat(this.kept).toString('utf8');
  }
}

/** Without `env` a hook inherits the runtime's environment, as runc's do; `env: []` means an empty one. */
function hookEnv(hook: Hook): string[] {
  if (hook.env === undefined) return Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  const byName = new Map<string, string>(); // a later entry of a name wins
  for (const e of hook.env) {
    const eq = e.indexOf('=');
    if (eq > 0) byName.set(e.slice(0, eq), e);
  }
  return [...byName.values()];
}

/** Runs the hooks of one kind in order; the first failure stops them and is thrown. */
export async function runHooks(kind: HookKind, hooks: Hook[] | undefined, state: HookState, onSpawn?: (pid: number) => void): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) await runHook(hook, `hooks.${kind}[${i}]`, state, onSpawn);
}

/** Runs every hook of one kind whatever fails (poststop); returns the failures as warnings. */
export async function runHooksCollecting(kind: HookKind, hooks: Hook[] | undefined, state: HookState): Promise<string[]> {
  const warnings: string[] = [];
  for (const [i, hook] of (hooks ?? []).entries()) {
    try {
      await runHook(hook, `hooks.${kind}[${i}]`, state);
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  return warnings;
}

/** Whether `err` is the failure of a hook of this kind (also when tsrunc-init reported it). */
export function isHookFailure(err: unknown, kind: HookKind): boolean {
  return err instanceof Error && err.message.startsWith(`hooks.${kind}[`);
}

/** The name of the OP_SYNC before pivot_root at which prestart and createRuntime hooks run. */
export const CREATE_RUNTIME_SYNC = 'createRuntime';
/** The name of the OP_SYNC whose reply is the state JSON for the createContainer hooks. */
export const STATE_SYNC = 'state';

/**
 * create's answer to tsrunc-init's OP_SYNC messages about hooks, as the payload of the go-ahead;
 * undefined for a name that is not about hooks. Throws when a hook fails.
 */
export async function answerHookSync(name: string, spec: Spec, state: HookState, onSpawn?: (pid: number) => void): Promise<string | undefined> {
  if (name === CREATE_RUNTIME_SYNC) {
    await runHooks('prestart', spec.hooks?.prestart, state, onSpawn);
    await runHooks('createRuntime', spec.hooks?.createRuntime, state, onSpawn);
    return '';
  }
  if (name === STATE_SYNC) return JSON.stringify(state);
  return undefined;
}

/** Go's wording (as runc's errors read) for the common causes; the error's own text otherwise. */
function errnoText(err: NodeJS.ErrnoException): string {
  const map: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOEXEC: 'exec format error',
    ENOTDIR: 'not a directory',
  };
  const known = map[errnoCode(err) ?? ''];
  if (known) return known;
  if (err.code) return err.message;
  // an addon error reads "exec PATH: Strerror": its cause only (the caller names the path), in Go's case
  const cause = err.message.slice(err.message.lastIndexOf(': ') + 2);
  return cause.charAt(0).toLowerCase() + cause.slice(1);
}
