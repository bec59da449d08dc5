// Terminals from the engine's side: the test itself is the --console-socket peer (the addon receives
// the SCM_RIGHTS message and talks to the pty master), and foreground `run`/`exec -t` under a real pty
// (script(1)) must give the terminal back as it found it.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/runtime/native';
import { childEnv, hostDir, makeBundle, testRoot, tsrunc, tsruncArgv, tsruncOk, uniqueId, waitForStatus, type Spec } from '../helpers';

const addon = native();

const dir = hostDir('terminal');

/** A --console-socket listener: resolves with the first pty master sent to it and the payload (the pty name). */
function consoleSocket(): { path: string; master: Promise<{ fd: number; name: string; count: number }>; close(): void } {
  const path = join(dir, `${uniqueId('cs')}.sock`);
  let resolve!: (v: { fd: number; name: string; count: number }) => void;
  let reject!: (e: Error) => void;
  const master = new Promise<{ fd: number; name: string; count: number }>((res, rej) => ((resolve = res), (reject = rej)));
  // pauseOnConnect: libuv must not read the connection; the addon takes the message with its fds.
  const server = net.createServer({ pauseOnConnect: true }, async (conn) => {
    const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
    try {
      for (;;) {
        const msg = addon.recvMsg(fd);
        if (msg) {
          if (!msg.fds.length) throw new Error(`no fd in the console message (${msg.data.length} bytes)`);
          resolve({ fd: msg.fds[0]!, name: msg.data.toString(), count: msg.fds.length });
          break;
        }
        await addon.waitReadable(fd);
      }
    } catch (e) {
      reject(e as Error);
    } finally {
      conn.destroy();
    }
  });
  server.listen(path);
  return { path, master, close: () => server.close() };
}

/** Reads the master until `pattern` shows up in everything read so far (or the pty closes: EIO). */
async function readUntil(fd: number, pattern: RegExp, seen = { text: '' }, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const buf = Buffer.alloc(4096);
  while (!pattern.test(seen.text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${JSON.stringify(seen.text)}`);
    await Promise.race([addon.waitReadable(fd), new Promise((r) => setTimeout(r, 200))]);
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EIO') break; // the container side is closed
      throw e;
    }
    if (n === 0) break;
    seen.text += buf.subarray(0, n).toString();
  }
  return seen.text;
}

/** The pty reads from the container in cooked mode: "\r\n" line ends. */
const lines = (s: string) => s.replace(/\r/g, '');

describe('console socket: the test receives the pty master', () => {
  it('create/start: tty, /dev/console, consoleSize, input and a later resize all go through the master', async () => {
    const script = [
      'tty',
      'stty size',
      'stat -c "console %t:%T" /dev/console',
      'stat -L -c "pty %t:%T" $(tty)',
      'for f in 0 1 2; do readlink /proc/self/fd/$f; done',
      // /dev/tty opens only with a controlling terminal.
      '(exec </dev/null >/dev/null; : </dev/tty) && echo ctty:yes',
      'trap "stty size; echo resized" WINCH',
      'echo ready',
      'read line',
      'echo got:$line',
      'while [ ! -e /tmp/done ]; do sleep 0.05; done',
      'exit 3',
    ].join('\n');
    const bundle = makeBundle({
      args: ['sh', '-c', script],
      mutate: (s) => {
        s.process!.terminal = true;
        s.process!.consoleSize = { height: 33, width: 111 };
      },
    });
    const cs = consoleSocket();
    const id = uniqueId('tty');
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, '--console-socket', cs.path, id]);
      const { fd, name, count } = await cs.master;
      expect(count).toBe(1);
      expect(name).toMatch(/^\/dev\/pts\/\d+$/);
      // From the container's own devpts instance, not the host's.
      expect(fstatSync(fd).dev).not.toBe(statSync('/dev/pts/ptmx').dev);
      await tsruncOk(['start', id]);
      const seen = { text: '' };
      await readUntil(fd, /ready/, seen);
      const out = lines(seen.text);
      expect(out.split('\n')[0]).toBe(name);
      expect(out).toContain('\n33 111\n');
      const consoleDev = /console (\w+:\w+)/.exec(out)?.[1];
      expect(consoleDev).toBeDefined();
      expect(out).toContain(`pty ${consoleDev}\n`);
      expect(out).toContain(`${name}\n${name}\n${name}\n`);
      expect(out).toContain('ctty:yes');

      writeSync(fd, 'hello there\n');
      await readUntil(fd, /got:hello there/, seen);
      addon.setWinsize(fd, 50, 132);
      await readUntil(fd, /50 132\r?\nresized/, seen);
      writeFileSync(join(bundle.rootfs, 'tmp/done'), '');
      await readUntil(fd, /(?!)/, seen); // to EIO: the container exited and closed its side
      closeSync(fd);
      await waitForStatus(id, 'stopped');
    } finally {
      cs.close();
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('exec -t --console-socket: its own pty in the container devpts, consoleSize from --process, exit code', async () => {
    const bundle = makeBundle({ args: ['sleep', '100000'] });
    const id = uniqueId('tty');
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    const cs = consoleSocket();
    try {
      const proc = join(dir, `${id}.json`);
      writeFileSync(
        proc,
        JSON.stringify({
          terminal: true,
          consoleSize: { height: 24, width: 91 },
          args: ['sh', '-c', 'tty; stty size; ls -1 /dev/pts; (exec </dev/null >/dev/null; : </dev/tty) && echo ctty:yes; echo ready; read l; echo got:$l; exit 7'],
          env: ['PATH=/bin', 'TERM=xterm'],
          cwd: '/',
          user: { uid: 0, gid: 0 },
        }),
      );
      const run = tsrunc(['exec', '--console-socket', cs.path, '-p', proc, id]);
      const { fd, name } = await cs.master;
      const seen = { text: '' };
      await readUntil(fd, /ready/, seen);
      const out = lines(seen.text);
      expect(out.split('\n')[0]).toBe(name);
      expect(out).toContain('\n24 91\n');
      expect(out).toContain('ctty:yes');
      // The exec's pty is in the container's devpts: its index is listed there.
      expect(out.split('\n')).toContain(name.replace('/dev/pts/', ''));
      writeSync(fd, 'from-engine\n');
      await readUntil(fd, /got:from-engine/, seen);
      const r = await run;
      expect(r.code, r.stderr).toBe(7);
      closeSync(fd);
    } finally {
      cs.close();
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('a console socket that is not there is a clear error; nothing is left', async () => {
    const bundle = makeBundle({ args: ['true'], mutate: (s) => void (s.process!.terminal = true) });
    const id = uniqueId('tty');
    const r = await tsrunc(['create', '--bundle', bundle.dir, '--console-socket', join(dir, 'absent.sock'), id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/absent\.sock|console/);
    expect(existsSync(join(testRoot(), id))).toBe(false);
  });

  it('create or run -d of a terminal container without --console-socket fails clearly and leaves nothing', async () => {
    const bundle = makeBundle({ args: ['true'], mutate: (s) => void (s.process!.terminal = true) });
    for (const command of [['create'], ['run', '-d']]) {
      const id = uniqueId('tty');
      const r = await tsrunc([...command, '--bundle', bundle.dir, id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim()).toMatch(new RegExp(`^tsrunc: ${command[0]}: process\\.terminal: .*--console-socket`));
      expect(existsSync(join(testRoot(), id))).toBe(false);
    }
  });
});

/**
 * Runs `shell` under script(1) on a new pty (stdin piped in as typed input). The shell saves `stty -g`
 * before and after tsrunc into files, so the caller can compare the terminal modes.
 */
function underPty(tsruncArgs: string[], input: string, opts: { rows: number; cols: number }) {
  const tag = uniqueId('pty');
  const before = join(dir, `${tag}.before`);
  const after = join(dir, `${tag}.after`);
  const command = [process.execPath, ...tsruncArgv(tsruncArgs)].map((a) => `'${a}'`).join(' ');
  const shell = `stty rows ${opts.rows} cols ${opts.cols}; stty -g > ${before}; ${command}; echo tsrunc-exit:$?; stty -g > ${after}`;
  const r = spawnSync('script', ['-qec', shell, '/dev/null'], { input, encoding: 'utf8', env: childEnv(), timeout: 20_000 });
  // The input is queued before the program reads it, so the outer and the container's pty echo it wherever
  // it lands in the output: drop those echo lines (what the program itself read shows as got:<input>).
  const typed = input.trim();
  const out = lines(r.stdout).split('\n').filter((l) => l !== typed).join('\n');
  return { out, before: readFileSync(before, 'utf8').trim(), after: readFileSync(after, 'utf8').trim() };
}

describe('foreground terminal under a real pty (no --console-socket)', () => {
  it('run: output, typed input, window size, exit code; the terminal modes are restored', () => {
    const bundle = makeBundle({
      args: ['sh', '-c', 'tty; stty size; read line; echo got:$line; exit 6'],
      mutate: (s) => void (s.process!.terminal = true),
    });
    const id = uniqueId('fg');
    const r = underPty(['run', '--bundle', bundle.dir, id], 'typed words\n', { rows: 41, cols: 97 });
    expect(r.out).toMatch(/\/dev\/pts\/\d+\n41 97\n/);
    expect(r.out).toContain('got:typed words');
    expect(r.out).toContain('tsrunc-exit:6');
    expect(r.after).toBe(r.before);
    expect(existsSync(join(testRoot(), id))).toBe(false);
  });

  it('exec -t: the same for a process in a running container', async () => {
    const bundle = makeBundle({ args: ['sleep', '100000'] });
    const id = uniqueId('fg');
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    try {
      const r = underPty(['exec', '-t', id, 'sh', '-c', 'tty; stty size; read line; echo got:$line; exit 9'], 'abc\n', { rows: 30, cols: 80 });
      expect(r.out).toMatch(/\/dev\/pts\/\d+\n30 80\n/);
      expect(r.out).toContain('got:abc');
      expect(r.out).toContain('tsrunc-exit:9');
      expect(r.after).toBe(r.before);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('a signal that kills the terminal process gives 128+N and still restores the terminal', async () => {
    const bundle = makeBundle({ args: ['sleep', '100000'] });
    const id = uniqueId('fg');
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    try {
      // Not pid 1 (which ignores signals it has no handler for): the exec'd shell kills itself.
      const r = underPty(['exec', '-t', id, 'sh', '-c', 'echo up; kill -TERM $$'], '', { rows: 24, cols: 80 });
      expect(r.out).toContain('up');
      expect(r.out).toContain('tsrunc-exit:143');
      expect(r.after).toBe(r.before);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });

  // A pty of our own (python's pty module) whose size the test changes: the kernel sends SIGWINCH to
  // tsrunc (its foreground process), which must resize the container's pty (which signals the shell).
  const WINCH_DRIVER = String.raw`
import fcntl, os, pty, select, struct, sys, termios, time
ready, argv = sys.argv[1], sys.argv[2:]
def size(fd, r, c): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
pid, fd = pty.fork()
if pid == 0:
    size(0, 24, 80)
    os.execvp(argv[0], argv)
out, resized, deadline = b'', False, time.time() + 60
while time.time() < deadline:
    if select.select([fd], [], [], 0.05)[0]:
        try: out += os.read(fd, 4096)
        except OSError: pass
    if not resized and os.path.exists(ready):
        size(fd, 50, 132); resized = True
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print('exit=%d' % os.waitstatus_to_exitcode(status)); sys.stdout.write(out.decode(errors='replace')); sys.exit(0)
os.kill(pid, 9); print('timeout'); sys.stdout.write(out.decode(errors='replace'))
`;

  it.each(['run', 'exec'] as const)('%s: a window size change (SIGWINCH) reaches the container\'s terminal', async (mode) => {
    const host = hostDir('winch');
    const script = "trap 'stty size > /host/winch; exit 7' WINCH; stty size; echo ready > /host/ready; while :; do sleep 0.1; done";
    const bind = (s: Spec) => void s.mounts!.push({ destination: '/host', type: 'bind', source: host, options: ['rbind', 'rw'] });
    const id = uniqueId('winch');
    let args: string[];
    if (mode === 'run') {
      const bundle = makeBundle({ args: ['sh', '-c', script], mutate: (s) => ((s.process!.terminal = true), bind(s)) });
      args = ['run', '--bundle', bundle.dir, id];
    } else {
      const bundle = makeBundle({ args: ['sleep', '100000'], mutate: bind });
      await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
      args = ['exec', '-t', id, 'sh', '-c', script];
    }
    try {
      const r = spawnSync('python3', ['-c', WINCH_DRIVER, join(host, 'ready'), process.execPath, ...tsruncArgv(args)], { encoding: 'utf8', env: childEnv(), timeout: 90_000 });
      expect(r.stdout, r.stderr).toMatch(/^exit=7\n/);
      expect(lines(r.stdout)).toContain('24 80\n'); // the size it started with
      expect(readFileSync(join(host, 'winch'), 'utf8')).toBe('50 132\n');
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});
