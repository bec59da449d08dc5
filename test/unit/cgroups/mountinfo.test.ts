import { describe, expect, it } from 'vitest';
import { findCgroup2Mount, parseMountInfo, unescapeMountField } from '../../../src/runtime/cgroups/mountinfo';
import { cgroupDir, parseOwnCgroup, resolveCgroupPath } from '../../../src/runtime/cgroups/path';
import { ConfigError } from '../../../src/runtime/errors';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw
50 31 0:40 / /mnt/second rw - cgroup2 cgroup2 rw
`;

describe('mountinfo', () => {
  it('finds the first cgroup2 mount, skipping v1 and optional fields', () => {
    expect(findCgroup2Mount(HYBRID)).toEqual({ root: '/', mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2' });
  });
  it('returns undefined without cgroup2', () => {
    expect(findCgroup2Mount('35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n')).toBeUndefined();
  });
  it('decodes octal escapes in mount points and roots', () => {
    const m = parseMountInfo('60 1 0:50 /a\\040b /mnt/with\\040space\\011tab rw - cgroup2 none rw\n');
    expect(m[0].mountPoint).toBe('/mnt/with space\ttab');
    expect(m[0].root).toBe('/a b');
    expect(unescapeMountField('back\\134slash\\012nl')).toBe('back\\slash\nnl');
  });
  it('skips malformed lines', () => {
    expect(parseMountInfo('garbage\n\n1 2 3\n')).toEqual([]);
  });
});

describe('cgroup paths', () => {
  it('reads the v2 line of /proc/self/cgroup', () => {
    expect(parseOwnCgroup('4:memory:/x\n0::/user.slice/a.scope\n')).toBe('/user.slice/a.scope');
    expect(parseOwnCgroup('0::/\n')).toBe('/');
    expect(() => parseOwnCgroup('4:memory:/x\n')).toThrow(/no "0::" line/);
  });
  it('defaults to /tsrunc/<id>', () => {
    expect(resolveCgroupPath(undefined, 'abc')).toBe('/tsrunc/abc');
    expect(resolveCgroupPath('', 'abc')).toBe('/tsrunc/abc');
  });
  it('keeps absolute paths and joins relative ones to our own cgroup', () => {
    expect(resolveCgroupPath('/a/b/', 'x')).toBe('/a/b');
    expect(resolveCgroupPath('a/b', 'x', '/runtime.scope')).toBe('/runtime.scope/a/b');
    expect(resolveCgroupPath('a', 'x', '/')).toBe('/a');
  });
  it('rejects .., the root and systemd paths', () => {
    expect(() => resolveCgroupPath('/a/../b', 'x')).toThrow(ConfigError);
    expect(() => resolveCgroupPath('/a/../b', 'x')).toThrow(/^linux.cgroupsPath: .*"\.\."/);
    expect(() => resolveCgroupPath('/', 'x')).toThrow(/root cgroup/);
    expect(() => resolveCgroupPath('system.slice:docker:abc', 'x')).toThrow(
      'linux.cgroupsPath: systemd cgroup paths (slice:prefix:name) are not supported: no systemd cgroup driver',
    );
  });
  it('maps hierarchy paths to directories below the mount, honouring the mount root', () => {
    const m = { root: '/', mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2' };
    expect(cgroupDir('/tsrunc/a', m)).toBe('/sys/fs/cgroup/tsrunc/a');
    const sub = { root: '/ns', mountPoint: '/mnt/cg', fsType: 'cgroup2' };
    expect(cgroupDir('/ns/c', sub)).toBe('/mnt/cg/c');
    expect(() => cgroupDir('/other', sub)).toThrow(/outside/);
  });
});

describe('mountinfo with a covered cgroup2 mount', () => {
  it('skips a cgroup2 mount hidden by a later mount over its parent', () => {
    const text = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '90 23 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 none rw',
    ].join('\n');
    expect(findCgroup2Mount(text)?.mountPoint).toBe('/sys/fs/cgroup');
  });
});
