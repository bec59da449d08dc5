import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { ConfigError, RuntimeError } from '../errors';
import { cgroup2Mount, type MountInfo } from './mountinfo';

const WHERE = 'linux.cgroupsPath';

/** The v2 line ("0::/path") of a /proc/<pid>/cgroup text. */
export function parseOwnCgroup(text: string): string {
  const line = text.split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new RuntimeError('this process is in no cgroup v2 hierarchy (/proc/self/cgroup has no "0::" line)');
  return line.slice(3) || '/';
}

/**
 * The container's cgroup as an absolute path in the cgroup2 hierarchy (as /proc/<pid>/cgroup shows it).
 * - absent: `/tsrunc/<id>` from the hierarchy root. Not relative to our own cgroup: the caller's cgroup
 *   usually holds processes, and then no controller could be enabled below it (no-internal-process rule).
 * - absolute: taken as is; relative: joined to `ownCgroup` (the runtime's cgroup).
 * `..` components and the systemd `slice:prefix:name` form are rejected.
 */
export function resolveCgroupPath(cgroupsPath: string | undefined, id: string, ownCgroup?: string): string {
  if (cgroupsPath === undefined || cgroupsPath === '') return `/tsrunc/${id}`;
  if (/^[^/]*:[^/]*:[^/]*$/.test(cgroupsPath)) {
    throw new ConfigError(WHERE, 'systemd cgroup paths (slice:prefix:name) are not supported: no systemd cgroup driver');
  }
  const parts = cgroupsPath.split('/');
  if (parts.includes('..')) throw new ConfigError(WHERE, `"${cgroupsPath}" must not contain ".." components`);
  if (parts.includes('.')) throw new ConfigError(WHERE, `"${cgroupsPath}" must not contain "." components`);
  const base = cgroupsPath.startsWith('/') ? '/' : (ownCgroup ?? parseOwnCgroup(readFileSync('/proc/self/cgroup', 'utf8')));
  const p = posix.join(base, cgroupsPath);
  const normal = p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  if (normal === '/') throw new ConfigError(WHERE, 'the root cgroup cannot be a container cgroup');
  return normal;
}

/**
 * Throws unless `path` is absolute and normalized: no "." or ".." components, no "//", no trailing
 * "/". Paths read back from state.json are untrusted; posix.join would resolve a ".." out of cgroupfs.
 */
export function checkCgroupPath(path: unknown, what = 'cgroup path'): asserts path is string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0') || posix.normalize(path) !== path ||
      (path.length > 1 && path.endsWith('/'))) {
    throw new RuntimeError(`invalid ${what} ${JSON.stringify(path)}: not an absolute normalized path`);
  }
}

/** The directory of cgroup `path` (absolute in the hierarchy) under the cgroup2 mount. */
export function cgroupDir(path: string, mount: MountInfo = cgroup2Mount()): string {
  checkCgroupPath(path);
  const root = mount.root === '/' ? '' : mount.root;
  if (root && path !== root && !path.startsWith(root + '/')) {
    throw new RuntimeError(`cgroup ${path} is outside the cgroup2 mount at ${mount.mountPoint} (root ${mount.root})`);
  }
  return posix.join(mount.mountPoint, path.slice(root.length));
}
