// OCI hooks the runtime runs itself, in its own namespaces: prestart, createRuntime, poststart, poststop.
// (createContainer and startContainer run inside the container: tsrunc-init's OP_HOOK.)
import type { Hook, Spec } from './config/types';
import { RuntimeError } from './errors';
import { hookStubPath } from './native';

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

/** Runs one hook with the state JSON on stdin; resolves when it exits 0, else throws a HookError. */
export async function runHook(hook: Hook, where: string, state: HookState, onSpawn?: (pid: number) => void): Promise<void> {
  // Loaded only when a container has hooks: child_process costs every CLI call a few ms. (Not import():
  // the CLI bundle's builtin interop rewrite turns `() => __toESM(require(..))` into a syntax error.)
  const { spawn } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const args = hook.args?.length ? hook.args : [hook.path];
  // Without `env` a hook inherits the runtime's environment, as runc's do; `env: []` means an empty one.
  let env: NodeJS.ProcessEnv = process.env;
  if (hook.env !== undefined) {
    env = {};
    for (const e of hook.env) {
      const eq = e.indexOf('=');
      if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
    }
  }
  await new Promise<void>((resolve, reject) => {
    // With onSpawn (create's write-ahead journal), the hook runs through a stub that execs it only once
    // its pid is recorded: a create killed in between leaves no hook behind that delete cannot find.
    if (onSpawn) {
      try {
        fs.accessSync(hook.path, fs.constants.X_OK);
      } catch (err) {
        reject(new HookError(where, `exec ${hook.path}: ${errnoText(err as NodeJS.ErrnoException)}`));
        return;
      }
    }
    const child = onSpawn
      ? spawn(hookStubPath(), [hook.path, ...args], { env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })
      : spawn(hook.path, args.slice(1), { argv0: args[0], env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (onSpawn && child.pid) {
      onSpawn(child.pid);
      const go = child.stdio[3] as import('node:stream').Writable;
      go.on('error', () => undefined);
      go.end('g');
    }
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.stdin!.on('error', () => undefined); // a hook need not read its stdin
    child.stdin!.end(JSON.stringify(state));
    let timedOut = false;
    const timer =
      hook.timeout !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : undefined;
    const fail = (message: string) => {
      const text = output.slice(0, OUTPUT_LIMIT).trimEnd();
      reject(new HookError(where, text ? `${message}: ${text}` : message));
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(`exec ${hook.path}: ${errnoText(err)}`);
    });
    // Output may still be in flight at 'exit'; but a daemon the hook left behind may hold its stdout
    // open forever, so 'close' gets a short grace period only.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const finish = () => {
        clearTimeout(grace);
        child.stdout!.destroy();
        child.stderr!.destroy();
        if (timedOut) fail(`timed out after ${hook.timeout} s (killed)`);
        else if (signal) fail(`killed by signal ${signal}`);
        else if (code !== 0) fail(`exit status ${code}`);
        else resolve();
      };
      const grace = setTimeout(finish, 100);
      child.once('close', finish);
    });
  });
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

function errnoText(err: NodeJS.ErrnoException): string {
  const map: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOEXEC: 'exec format error',
    ENOTDIR: 'not a directory',
  };
  return (err.code && map[err.code]) ?? err.message;
}
