// spawnHelper runs tsrunc-init from a sealed memfd copy and keeps that copy for the next spawn of the same
// process (the shim spawns one helper per exec) while the file is unchanged (native/addon/spawn.cc).
// What the kernel runs is read back from /proc/<helper>/exe: the same memfd while the file is the same,
// a new copy with the new content once the file was rewritten in place or replaced.
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { initHelperPath, native } from '../../src/runtime/native';

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-helper-copy-'));
const helper = join(dir, 'tsrunc-init');
const devNull = openSync('/dev/null', 'r+');

afterAll(() => {
  closeSync(devNull);
  rmSync(dir, { recursive: true, force: true });
});

/** Spawns the helper, reads what it runs, and lets it go (no plan: it exits). */
async function spawnAndRead(): Promise<{ ino: number; bytes: Buffer }> {
  const { pidfd, sock, pid } = native().spawnHelper(helper, [devNull, devNull, devNull], -1);
  try {
    const exe = `/proc/${pid}/exe`;
    return { ino: statSync(exe).ino, bytes: readFileSync(exe) };
  } finally {
    closeSync(sock);
    while (!native().reapPidfd(pidfd)) await native().waitReadable(pidfd);
    closeSync(pidfd);
  }
}

it('reuses the sealed copy while the helper file is unchanged, and copies again once it changed', async () => {
  const original = readFileSync(initHelperPath());
  copyFileSync(initHelperPath(), helper);

  const a = await spawnAndRead();
  const b = await spawnAndRead();
  expect(a.bytes.equals(original)).toBe(true);
  expect(b.ino).toBe(a.ino); // the kept memfd

  // Rewritten in place, same size and inode: only its times change.
  const edited = Buffer.from(original);
  edited[edited.length - 1] ^= 0xff;
  writeFileSync(helper, edited);
  const c = await spawnAndRead();
  expect(c.ino).not.toBe(a.ino);
  expect(c.bytes.equals(edited)).toBe(true);

  // Replaced by a rename (what an upgrade does).
  const grown = Buffer.concat([original, Buffer.from('tsrunc')]);
  writeFileSync(join(dir, 'new'), grown);
  renameSync(join(dir, 'new'), helper);
  const d = await spawnAndRead();
  expect(d.ino).not.toBe(c.ino);
  expect(d.bytes.equals(grown)).toBe(true);
});

it('the kept copy is sealed: it cannot be written, grown or shrunk', async () => {
  copyFileSync(initHelperPath(), helper);
  const { pidfd, sock, pid } = native().spawnHelper(helper, [devNull, devNull, devNull], -1);
  try {
    expect(() => openSync(`/proc/${pid}/exe`, 'r+')).toThrow(/EPERM|EACCES|ETXTBSY/);
  } finally {
    closeSync(sock);
    while (!native().reapPidfd(pidfd)) await native().waitReadable(pidfd);
    closeSync(pidfd);
  }
});
