// `ctr task attach`: a new client opens the stdio fifos of a task that runs on after the client that
// started it (`ctr run -d`) has gone, twice in a row (containerd's client reopens the same fifos; the
// shim is not told). With a terminal the shim must keep reading the stdin fifo across clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, EngineEnv, installed, REPO, uniqueId, showRun, type RunResult } from './harness';
import * as ctrTasks from './ctr-tasks';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const haveContainerd = installed('containerd') && installed('ctr') && installed('script');
// Echoes each line of its stdin; says so when its stdin ends.
const LOOP = 'while read l; do echo "got:$l"; done; echo stdin-ended; sleep 1000';

describe.skipIf(!haveContainerd)('ctr task attach to a task of our shim', () => {
  let env: EngineEnv;
  const clients: ChildProcess[] = [];

  beforeAll(async () => {
    env = await EngineEnv.start();
  });

  afterAll(async () => {
    for (const c of clients) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await env?.stop();
  });

  const show = (r: RunResult): string => showRun(r, env.daemonLog('containerd'));
  const ctrLine = (args: string[]) => ['ctr', '-a', env.containerdSock, '-n', env.ns, ...args];

  /** `ctr task attach id` (under script(1) with a terminal); `send` writes a line and waits for its echo. */
  function attach(id: string, tty: boolean) {
    const [cmd, args] = tty
      ? env.nsArgv('script', ['-qec', ctrLine(['task', 'attach', id]).join(' '), '/dev/null'])
      : env.ctrArgv(['task', 'attach', id]);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv() });
    clients.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return {
      output: () => out,
      async send(line: string, ms = 20_000): Promise<void> {
        // The client may not have opened the fifos yet: repeat the line until one echo comes back.
        const deadline = Date.now() + ms;
        for (let i = 0; !out.includes(`got:${line}`); i++) {
          if (Date.now() > deadline) throw new Error(`no echo of ${line} after ${ms} ms: ${JSON.stringify(out)}`);
          if (i % 20 === 0) child.stdin!.write(`${line}\n`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async detach(): Promise<void> {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      },
    };
  }

  test('terminal: two clients in turn after run -d -t each get the task\'s input and output', async () => {
    const id = uniqueId('att-t');
    try {
      const runArgv = ['run', '-d', '-t', '--runtime', SHIM, '--cpu-shares', '0', env.image.ctrRef, id, 'sh', '-c'];
      const r = await env.exec('script', ['-qec', `${ctrLine(runArgv).join(' ')} '${LOOP}'`, '/dev/null']);
      expect(r.code, show(r)).toBe(0);
      await ctrTasks.waitStatus(env, id, 'RUNNING');
      for (const name of ['first', 'second']) {
        const a = attach(id, true);
        await a.send(`${name}-hello`);
        expect(a.output()).not.toContain('stdin-ended');
        await a.detach();
      }
      expect((await ctrTasks.taskStatus(env, id))?.status).toBe('RUNNING');
    } finally {
      await ctrTasks.removeAll(env, id);
    }
  }, 120_000);

  test('no terminal: two clients in turn after run -d each get the output written meanwhile', async () => {
    // (Without a terminal the end of the first client's stdin is the process's EOF, as the shim's stdin
    // design has it, so only the output is re-attached here.)
    const id = uniqueId('att');
    try {
      const r = await env.ctr(['run', '-d', '--runtime', SHIM, '--cpu-shares', '0', env.image.ctrRef, id, 'sh', '-c', 'i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.1; done']);
      expect(r.code, show(r)).toBe(0);
      await ctrTasks.waitStatus(env, id, 'RUNNING');
      for (let round = 0; round < 2; round++) {
        const a = attach(id, false);
        const deadline = Date.now() + 20_000;
        while ((a.output().match(/tick-\d+\n/g) ?? []).length < 3) {
          if (Date.now() > deadline) throw new Error(`attach ${round}: no ticks: ${JSON.stringify(a.output())}`);
          await new Promise((res) => setTimeout(res, 50));
        }
        await a.detach();
      }
    } finally {
      await ctrTasks.removeAll(env, id);
    }
  }, 120_000);
});
