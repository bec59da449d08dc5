// The cgroup2 mount found at its usual place without mountinfo (usualCgroup2Mount) is the one mountinfo
// names; only a hierarchy's root directory counts.
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { findCgroup2Mount, usualCgroup2Mount } from '../../../src/runtime/cgroups/mountinfo';
import { native } from '../../../src/runtime/native';

it('is the cgroup2 mount that mountinfo names', () => {
  const { root, mountPoint } = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'))!;
  expect(usualCgroup2Mount()).toEqual({ root, mountPoint, fsType: 'cgroup2' });
});

it('counts only the root directory of a cgroup2 hierarchy, not through a symlink', () => {
  const mountPoint = usualCgroup2Mount()!.mountPoint;
  expect(native().isCgroup2Root(mountPoint)).toBe(true);
  const child = join(mountPoint, `tsrunc-usual-${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-usual-'));
  mkdirSync(child);
  try {
    expect(native().isCgroup2Root(child)).toBe(false);
    symlinkSync(mountPoint, join(dir, 'link'));
    expect(native().isCgroup2Root(join(dir, 'link'))).toBe(false);
    expect(native().isCgroup2Root(dir)).toBe(false);
    expect(native().isCgroup2Root(join(dir, 'absent'))).toBe(false);
  } finally {
    rmdirSync(child);
    rmSync(dir, { recursive: true });
  }
});
