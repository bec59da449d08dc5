// Terminals: the pty master through --console-socket (runc's protocol: one SCM_RIGHTS message on a unix
// stream socket, the pty name as payload) for create/start and exec, and foreground `run` in a terminal.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, makeBundle, REPO, testRoot, tsrunc, tsruncArgv, tsruncOk, uniqueId } from '../helpers';

const LISTENER = join(REPO, 'test/fixtures/console/listener.py');
const dir = mkdtempSync(join(tmpdir(), 'tsrunc-test-console-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the python peer on a fresh socket; resolves once it listens. */
async function listener(input: string, waitFor: string): Promise<{ socket: string; done: Promise<string> }> {
  const socket = join(dir, `${uniqueId('sock')}.sock`);
  const child: ChildProcess = spawn('python3', [LISTENER, socket, input, waitFor], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`console peer timed out: ${out}`))), 15_000);
    child.on('exit', () => (clearTimeout(timer), resolve(out)));
  });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  return { socket, done };
}

const SCRIPT = 'tty; stty size; stat -c "console %t:%T" /dev/console; stat -L -c "pty %t:%T" $(tty); echo ready; read line; echo got:$line';

describe('process.terminal with --console-socket', () => {
  it('create sends the pty master; the container has it as its controlling tty and /dev/console', async () => {
    const bundle = makeBundle({
      args: ['sh', '-c', SCRIPT],
      mutate: (s) => {
        s.process!.terminal = true;
        s.process!.consoleSize = { height: 33, width: 111 };
      },
    });
    const peer = await listener('hello\n', 'ready');
    const id = uniqueId('tty');
    await tsruncOk(['create', '--bundle', bundle.dir, '--console-socket', peer.socket, id]);
    await tsruncOk(['start', id]);
    const out = await peer.done;
    await tsrunc(['delete', '--force', id]);
    expect(out).toContain('fds:1');
    expect(out).toMatch(/name:\/dev\/pts\/\d+/);
    expect(out).toMatch(/\/dev\/pts\/\d+\r?\n33 111\r?\n/);
    const consoleDev = /console (\w+:\w+)/.exec(out)?.[1];
    expect(consoleDev).toBeDefined();
    expect(out).toContain(`pty ${consoleDev}`);
    expect(out).toMatch(/got:hello/);
  });

  it('without --console-socket, a terminal container is a clear create error and nothing is left', async () => {
    const bundle = makeBundle({ args: ['true'], mutate: (s) => void (s.process!.terminal = true) });
    const id = uniqueId('tty');
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^tsrunc: create: process\.terminal: .*--console-socket/);
    expect(existsSync(join(testRoot(), id))).toBe(false);
  });

  it('exec -t --console-socket gives the exec process its own pty', async () => {
    const bundle = makeBundle({ args: ['sleep', '60'] });
    const id = uniqueId('tty');
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    try {
      const peer = await listener('from-test\n', 'ready');
      const r = await tsrunc(['exec', '-t', '--console-socket', peer.socket, id, 'sh', '-c', 'tty; echo ready; read line; echo got:$line; exit 4']);
      const out = await peer.done;
      expect(r.code).toBe(4);
      expect(out).toMatch(/\/dev\/pts\/\d+/);
      expect(out).toContain('got:from-test');
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});

describe('foreground run in a terminal (no --console-socket)', () => {
  it('joins our terminal to the container, passes input, and exits with its status', () => {
    const bundle = makeBundle({ args: ['sh', '-c', 'tty; read line; echo got:$line; exit 5'], mutate: (s) => void (s.process!.terminal = true) });
    const id = uniqueId('fg');
    const command = tsruncArgv(['run', '--bundle', bundle.dir, id]).map((a) => `'${a}'`).join(' ');
    // script(1) runs tsrunc on a new pty; what we write to script's stdin is typed into it.
    const r = spawnSync('script', ['-qefc', `${process.execPath} ${command}; echo tsrunc-exit:$?`, '/dev/null'], {
      input: 'typed\n',
      encoding: 'utf8',
      env: childEnv(),
      timeout: 20_000,
    });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('got:typed');
    expect(r.stdout).toContain('tsrunc-exit:5');
  });
});
