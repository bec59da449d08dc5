import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/addon/). */
export interface Native {
  spawnHelper(helperPath: string, fds: number[], cgroupFd: number): { pid: number; pidfd: number; sock: number };
  /** A string goes as UTF-8. */
  sendMsg(fd: number, data: Uint8Array | string, fds?: number[]): number;
  /** The plan, in a sealed memfd passed over the sync socket (no message size limit). */
  sendPlan(fd: number, plan: Uint8Array): void;
  recvMsg(fd: number): { data: Buffer; fds: number[] } | null;
  /** hangupOnly: resolved only once every peer of the socket has closed it (queued messages do not count). */
  waitReadable(fd: number, hangupOnly?: boolean): Promise<void>;
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  /** A blocking flock on a thread of its own: resolves once held, never blocks the loop. */
  flockWait(fd: number, exclusive: boolean): Promise<void>;
  pidfdOpen(pid: number): number;
  /** The name of `uid` in /etc/passwd (as runc's list: no NSS), undefined when it has none. */
  userName(uid: number): string | undefined;
  pidfdSendSignal(pidfd: number, signal: number): boolean;
  reapPidfd(pidfd: number): { code: number | null; signal: number | null } | null;
  setChildSubreaper(on?: boolean): void;
  /**
   * A file mapped read-only: an ASCII file as an external string, or its bytes as an external Buffer;
   * undefined when it cannot be mapped (absent, empty, not a regular file).
   */
  mapFile(path: string, asText: true): string | undefined;
  mapFile(path: string, asText: false): Buffer | undefined;
  /** FNV-1a 64 of the text's UTF-8, as 16 hex digits: names a cache file (not a digest to trust). */
  textHash(text: string): string;
  /**
   * posix_spawn of `path` (no PATH search) with fds[i] as the child's fd i and no other fd, default
   * signal dispositions and an empty mask. Throws "exec PATH: ..." (with .errno) when it cannot run.
   */
  spawnProcess(path: string, argv: string[], envp: string[], fds: number[]): { pid: number; pidfd: number };
  /** [read, write], close-on-exec; the read end non-blocking if asked. */
  pipe(nonblockingRead?: boolean): [number, number];
  /** An fd that reads the text's UTF-8, then EOF: a filled pipe (a memfd past what a pipe holds). */
  readerOf(text: string): number;
  /** An epoll fd, readable while any of `fds` is: one waitReadable for several. */
  epollOf(fds: number[]): number;
  /** _exit(2): the process ends here, without Node's teardown. */
  exitNow(code: number): never;
  unixConnect(path: string): number;
  socketPair(): [number, number];
  setWinsize(fd: number, rows: number, cols: number): void;
  bpfProgLoadDevice(insns: Buffer, license: string): number;
  bpfProgAttach(progFd: number, cgroupFd: number, flags?: number, replaceFd?: number): void;
  bpfProgQuery(cgroupFd: number): { flags: number; ids: number[] };
  umountDetach(path: string): void;
  /** openat2(2) (O_CLOEXEC added); `resolve` is RESOLVE_* flags. */
  openat2(dirfd: number, path: string, flags: number, resolve: number): number;
  /** Each name's inode below `dir` (symlinks followed), -1 where it has none; undefined: no `dir`. */
  inodesIn(dir: string, names: string[]): number[] | undefined;
  /** Whether `path` is the root directory of a cgroup2 hierarchy (inode 1), not through a symlink. */
  isCgroup2Root(path: string): boolean;
  /** fstat(2)'s mode and size. */
  fstatBrief(fd: number): { mode: number; size: number };
  /** f_type of fstatfs(2). */
  fstatfsType(fd: number): number;
  /**
   * A state directory `name` below `root`, opened without following a symlink, its exclusive flock tried
   * without waiting (unless `lock` is false); `current`: locked and still root's entry of that name.
   * Undefined: root or directory absent.
   */
  openStateDir(root: string, name: string, lock?: boolean): OpenedStateDir | undefined;
  /** rm -rf of `name` below the directory `parent` through directory fds: never follows a symlink, never crosses a mount. */
  removeTreeAt(parent: string, name: string): void;
  mount?(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount?(target: string, flags: number): void;
}

export interface OpenedStateDir {
  fd: number;
  ino: number;
  root: { mode: number; uid: number };
  dir: { mode: number; uid: number };
  locked: boolean;
  current: boolean;
}

let rootDir: string | undefined;
/** Set by scripts/build.mjs in each bundle: the package root, relative to the bundle's directory. */
declare const TSRUNC_PACKAGE_UP: string | undefined;

/**
 * The package root: where binding.gyp's build/ lives, from src/runtime/ or from the bundled dist/. Found once
 * per process (it is where this code was loaded from); a long-lived caller asked for it on every exec.
 */
export function packageRoot(): string {
  if (rootDir) return rootDir;
  // A bundle knows where it sits in the package (the build defines it): no walk of existsSync calls,
  // ~0.15 ms of every call that loads the addon. From sources (tests), the walk.
  if (typeof TSRUNC_PACKAGE_UP === 'string' && typeof __dirname === 'string') return (rootDir = path.join(__dirname, TSRUNC_PACKAGE_UP));
  let dir = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'binding.gyp'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the tsrunc package root (binding.gyp)');
    dir = parent;
  }
  return (rootDir = dir);
}

// One load per process, shared by every bundle that inlines this module (dist/lib/*.cjs each do).
const LOADED = Symbol.for('tsrunc.native');
type WithAddon = typeof globalThis & { [LOADED]?: Native };

/**
 * The addon, through process.dlopen: require() would first resolve the path (stat, a realpath walk,
 * the package.json scope lookup) and node:module's createRequire loads the ESM loader; each call that
 * touches the addon paid for that.
 */
export function native(): Native {
  const g = globalThis as WithAddon;
  if (!g[LOADED]) {
    const m = { exports: {} as Native };
    process.dlopen(m, path.join(packageRoot(), 'build', 'Release', 'tsrunc.node'));
    g[LOADED] = m.exports;
  }
  return g[LOADED];
}

export function initHelperPath(): string {
  return path.join(packageRoot(), 'build', 'Release', 'tsrunc-init');
}

/** The stub create runs hooks through (native/hookstub): they exec only once the journal lists them. */
export function hookStubPath(): string {
  return path.join(packageRoot(), 'build', 'Release', 'tsrunc-hookstub');
}
