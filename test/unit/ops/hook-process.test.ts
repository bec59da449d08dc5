// The addon's process and pipe calls for hooks (native/addon/hookproc.cc); runHook on them, as hooks
// see it: test/integration/hooks.test.ts ("hook processes").
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../../src/runtime/native';

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-hookproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Waits for the child and returns its exit code. */
async function exited(child: { pidfd: number }): Promise<number | null> {
  await native().waitReadable(child.pidfd);
  const status = native().reapPidfd(child.pidfd)!;
  closeSync(child.pidfd);
  return status.code;
}

describe('spawnProcess', () => {
  it('puts fds[i] at i, whatever their numbers, and no other fd', async () => {
    // Sources numbered against the grain (the last is the lowest): placing one must not clobber another.
    const files = ['a', 'b', 'c', 'd'].map((n) => join(dir, n));
    const fds = files.map((f) => openSync(f, 'w'));
    const script = 'for i in 0 1 2 3; do echo "fd $i" >&$i; done; ls /proc/self/fd >&3';
    const child = native().spawnProcess('/bin/sh', ['sh', '-c', script], [], [...fds].reverse());
    expect(await exited(child)).toBe(0);
    fds.forEach((fd) => closeSync(fd));
    expect(readFileSync(files[3]!, 'utf8')).toBe('fd 0\n');
    expect(readFileSync(files[2]!, 'utf8')).toBe('fd 1\n');
    expect(readFileSync(files[1]!, 'utf8')).toBe('fd 2\n');
    // fd 3 got its line, then ls's listing: ls's own directory fd is 4 (0-3 are the four given)
    expect(readFileSync(files[0]!, 'utf8')).toBe('fd 3\n0\n1\n2\n3\n4\n');
  });

  it('a source among the low fds is taken before a target overwrites it', async () => {
    // Our fd 0 goes to the child's 2, a file to its 0: placed in order, 0 would be the file by then.
    const out = join(dir, 'low');
    const fd = openSync(out, 'w');
    const child = native().spawnProcess('/bin/sh', ['sh', '-c', 'readlink /proc/self/fd/2 >&0'], [], [fd, fd, 0]);
    expect(await exited(child)).toBe(0);
    closeSync(fd);
    expect(readFileSync(out, 'utf8').trim()).toBe(readlinkSync('/proc/self/fd/0'));
  });

  it('passes argv and exactly the environment given', async () => {
    const out = join(dir, 'env');
    const fd = openSync(out, 'w');
    const child = native().spawnProcess('/bin/sh', ['my-name', '-c', 'echo "$0"; env'], ['A=1', 'B=two words'], [fd, fd, fd]);
    expect(await exited(child)).toBe(0);
    closeSync(fd);
    const [argv0, ...env] = readFileSync(out, 'utf8').trim().split('\n');
    expect(argv0).toBe('my-name');
    expect(env.filter((e) => !e.startsWith('PWD=')).sort()).toEqual(['A=1', 'B=two words']);
  });

  it('a path that cannot run is thrown with its errno, and nothing is left', () => {
    expect(() => native().spawnProcess(join(dir, 'missing'), ['x'], [], [])).toThrow(expect.objectContaining({ errno: 2, message: `exec ${join(dir, 'missing')}: No such file or directory` }));
    expect(() => native().spawnProcess(dir, ['x'], [], [])).toThrow(expect.objectContaining({ errno: 13 }));
  });
});

describe('readerOf', () => {
  it.each([['small', 100], ['larger than a pipe holds by default', 200_000], ['larger than any pipe (a memfd)', 3_000_000]])('%s: reads back whole, then EOF', (_name, size) => {
    const text = 'é'.repeat(size / 2);
    const fd = native().readerOf(text);
    expect(readFileSync(fd, 'utf8')).toBe(text);
    closeSync(fd);
  });
});

describe('epollOf and pipe', () => {
  it('the epoll fd wakes when one of its fds is readable; the read end is non-blocking if asked', async () => {
    const [r1, w1] = native().pipe(true);
    const [r2, w2] = native().pipe();
    const ep = native().epollOf([r1, r2]);
    expect(() => readFileSync(r1)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
    const woke = native().waitReadable(ep);
    writeSync(w2, 'x');
    await woke;
    [r1, w1, r2, w2, ep].forEach((fd) => closeSync(fd));
  });
});
