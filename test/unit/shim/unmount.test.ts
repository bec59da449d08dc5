// unmountRootfs through umount2 until EINVAL: stacked mounts all go, a busy one is detached, a plain
// directory and a missing path are fine. (Under containerd the shim's unmount is not observable: containerd
// unmounts the bundle's rootfs itself after Delete, so this is checked here, on tmpfs mounts.)
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { native } from '../../../src/runtime/native';
import { unmountRootfs, isMountPoint } from '../../../src/shim/mount';

const mounts = (p: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === p).length;

describe('unmountRootfs', () => {
  const sys = native();
  test.runIf(process.getuid?.() === 0 && !!sys.mount && !!sys.umount)('stacked and busy mounts go; nothing mounted is fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-unmount-'));
    const rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs);
    let fd = -1;
    try {
      sys.mount!('tmpfs', rootfs, 'tmpfs', 0, 'size=64k');
      sys.mount!('tmpfs', rootfs, 'tmpfs', 0, 'size=64k');
      writeFileSync(join(rootfs, 'f'), 'x');
      fd = openSync(join(rootfs, 'f'), 'r'); // keeps the top mount busy: it is detached, not left
      expect(mounts(rootfs)).toBe(2);
      await unmountRootfs(rootfs);
      expect(mounts(rootfs)).toBe(0);
      expect(isMountPoint(rootfs)).toBe(false);
      await unmountRootfs(rootfs);
      await unmountRootfs(join(dir, 'missing'));
    } finally {
      if (fd >= 0) closeSync(fd);
      for (let i = 0; i < 4 && isMountPoint(rootfs); i++) sys.umountDetach(rootfs);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
