// The mountinfo scans that read only the lines that matter (findCgroup2Mount, mountsAtOrUnder) against
// the straightforward parse of every line they replaced, on seeded random mount tables written the way
// the kernel writes them (octal escapes for space, tab, newline and backslash only).
import { describe, expect, it } from 'vitest';
import { escapeMountField, findCgroup2Mount, mountsAtOrUnder, parseMountInfo, unescapeMountField, type MountInfo } from '../../../src/runtime/cgroups/mountinfo';
import { seededRandom } from '../../helpers/mutate';

/** The reference: every line parsed, a cgroup2 mount counts unless a later one is on or above it. */
function referenceCgroup2(text: string): MountInfo | undefined {
  const mounts = parseMountInfo(text);
  const covers = (later: MountInfo, m: MountInfo) =>
    later.mountPoint === m.mountPoint || m.mountPoint.startsWith(later.mountPoint === '/' ? '/' : later.mountPoint + '/');
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i]!;
    if (m.fsType === 'cgroup2' && !mounts.slice(i + 1).some((later) => covers(later, m))) return m;
  }
  return undefined;
}

/** The reference of the host-mount record: every line with 5 fields, its mount point decoded. */
function referenceUnder(text: string, path: string): { id: number; mountPoint: string }[] {
  const out: { id: number; mountPoint: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mountPoint = unescapeMountField(f[4]!);
    if (mountPoint === path || mountPoint.startsWith(path + '/')) out.push({ id: Number(f[0]), mountPoint });
  }
  return out;
}

const SEGMENTS = ['sys', 'fs', 'cgroup', 'unified', 'run', 'a', 'a b', 'tab\there', 'back\\slash', 'rootfs', 'c1', 'c10'];
const FSTYPES = ['cgroup2', 'cgroup2', 'tmpfs', 'overlay', 'cgroup', 'proc'];

function randomPath(r: (n: number) => number): string {
  const depth = r(5);
  let p = '';
  for (let i = 0; i < depth; i++) p += '/' + SEGMENTS[r(SEGMENTS.length)];
  return p || '/';
}

function randomTable(r: (n: number) => number): string {
  const lines: string[] = [];
  for (let i = 0, n = 1 + r(40); i < n; i++) {
    const optional = ['', ' shared:5', ' shared:9 master:2'][r(3)];
    lines.push(`${20 + i} 1 0:${i} ${escapeMountField(randomPath(r))} ${escapeMountField(randomPath(r))} rw,relatime${optional} - ${FSTYPES[r(FSTYPES.length)]} none rw`);
  }
  return lines.join('\n') + (r(2) ? '\n' : '');
}

describe('mountinfo scans', () => {
  it('escapeMountField writes what unescapeMountField reads, as the kernel does', () => {
    expect(escapeMountField('/a b\tc\n\\d/e')).toBe('/a\\040b\\011c\\012\\134d/e');
    expect(unescapeMountField(escapeMountField('/a b\tc\n\\d/e'))).toBe('/a b\tc\n\\d/e');
  });

  it('findCgroup2Mount decides as the full parse on 3000 random tables', () => {
    const r = seededRandom(0x6d6f756e);
    let found = 0;
    for (let i = 0; i < 3000; i++) {
      const text = randomTable(r);
      const want = referenceCgroup2(text);
      expect(findCgroup2Mount(text), text).toEqual(want);
      if (want) found++;
    }
    // both outcomes well represented
    expect(found).toBeGreaterThan(300);
    expect(found).toBeLessThan(2700);
  });

  it('mountsAtOrUnder finds what the full parse finds, in order, on 3000 random tables', () => {
    const r = seededRandom(0x756e6472);
    let nonEmpty = 0;
    for (let i = 0; i < 3000; i++) {
      const text = randomTable(r);
      const path = randomPath(r);
      const want = referenceUnder(text, path);
      expect(mountsAtOrUnder(text, path), `${path}\n${text}`).toEqual(want);
      if (want.length) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(300);
  });
});
