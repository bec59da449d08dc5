// Real engines (containerd 1.6, dockerd 20.10, podman 4.3 from Debian) driving a runtime, isolated from
// the host: a private mount namespace in which /sys/fs/cgroup is a cgroup2 mount (the host's v1
// hierarchies, one of which holds this machine's supervisor, are unmounted there and never touched),
// /run is a directory of the temp dir, and every daemon's root/state/socket lives in the temp dir.
// Everything is removed by stop(): daemons by PID, leftover processes of the namespace, our cgroups,
// the namespace (its mounts go with it) and the temp dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, childEnv, procState, REPO, sleep, TSRUNC_CJS, uniqueId } from '../helpers/base';
import { cgroup2Mount, readMountinfo } from '../helpers/mountinfo';
import { makeBusyboxImage, type ImageArchive, type ImageOptions } from './image';

export { alive, REPO, TSRUNC_CJS, uniqueId };
export const RUNC = '/usr/sbin/runc';
const DOCKER = '/usr/bin/docker'; // /usr/local/bin/docker may be a newer client than the daemon

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeout?: number;
  input?: string;
  env?: Record<string, string>;
}

/** Our environment minus NODE_EXTRA_CA_CERTS (40 ms per node start, and the daemons must not see it). */
export const cleanEnv = childEnv;

/** Runs a program to completion, capturing output; SIGKILL after `timeout` ms. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: cleanEnv(opts.env),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeout ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A command's outcome for an assertion's message; with `log` (a daemon's), its last 20 lines too. */
export function showRun(r: RunResult, log?: string): string {
  const head = `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  return log === undefined ? head : `${head}\n--- log\n${log.split('\n').slice(-20).join('\n')}`;
}

/** Like run() but throws with the output unless the exit code is 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code ?? r.signal}${r.timedOut ? ' (timeout)' : ''}\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    // A zombie child of ours counts as gone once reaped by Node; a zombie of someone else as gone too.
    if (procState(pid) === 'Z') return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function mntNs(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The host's cgroup2 mount point (here /sys/fs/cgroup/unified; /sys/fs/cgroup on a pure v2 host). */
function hostCgroup2(): string {
  const m = cgroup2Mount();
  if (!m) throw new Error('no cgroup2 mount on this host');
  return m;
}

function hostMountsUnder(path: string): string[] {
  return readMountinfo()
    .map((m) => m.mountPoint)
    .filter((m) => m === path || m.startsWith(path + '/'));
}

export interface EngineEnvOptions {
  /** Also start dockerd (in containerd's mount namespace, on this containerd). */
  docker?: boolean;
  /** Also load the image into podman's store (podman needs no daemon). */
  podman?: boolean;
  /** Options of the test image (default: the plain busybox rootfs). */
  image?: ImageOptions;
  /** Enables containerd's CRI plugin with the TOML this returns for the env's dir (its `[plugins."io.containerd.grpc.v1.cri"]` tables). */
  cri?: (dir: string) => string;
  /** Directories put before containerd's PATH (where it finds shims by name, e.g. io.containerd.tsrunc.v2). */
  containerdPath?: string[];
  /**
   * /run, containerd's state (the bundles) and the runtimes' roots on tmpfs inside the namespace, as on a
   * host (Debian's /run is tmpfs): for benchmarks, where an fsync there costs what it costs in production.
   * Their files are then seen only inside the namespace, so tests keep the default (directories of `dir`).
   */
  tmpfsRun?: boolean;
  /** More tsrunc builds for dockerd's `runtimes` (name -> a dist/tsrunc.cjs), e.g. a bench's before/after. */
  extraTsrunc?: Record<string, string>;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  pid: number;
  log: string;
}

/**
 * One isolated set of engines. `EngineEnv.start()` in beforeAll, `stop()` in afterAll.
 * Commands run inside the namespace through nsenter; paths under `dir` are the same inside and out.
 */
export class EngineEnv {
  /** Unique tag: part of the temp dir, the containerd namespace and every cgroup the engines make. */
  readonly tag = `tsrunc-eng-${randomBytes(3).toString('hex')}`;
  readonly dir: string;
  /** The containerd namespace ctr uses (ctr puts containers in cgroup /<ns>/<id>). */
  readonly ns: string;
  /** A `tsrunc` executable for engines: a shell wrapper around dist/tsrunc.cjs. */
  readonly tsruncBin: string;
  readonly containerdSock: string;
  readonly dockerSock: string;
  /** State roots (--runc-root) per runtime for ctr, so tsrunc and runc never share one. */
  readonly roots: { runc: string; tsrunc: string };
  image!: ImageArchive;
  private holder?: ChildProcess;
  private holderNs?: string;
  private daemons = new Map<string, Daemon>();
  private logFiles: string[] = [];
  private opts: EngineEnvOptions = {};

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), `${this.tag}-`));
    this.ns = this.tag;
    this.tsruncBin = join(this.dir, 'bin', 'tsrunc');
    this.containerdSock = join(this.dir, 'containerd', 'containerd.sock');
    this.dockerSock = join(this.dir, 'docker', 'docker.sock');
    this.roots = { runc: join(this.dir, 'roots', 'runc'), tsrunc: join(this.dir, 'roots', 'tsrunc') };
  }

  get holderPid(): number {
    if (!this.holder?.pid) throw new Error('namespace not started');
    return this.holder.pid;
  }

  static async start(opts: EngineEnvOptions = {}): Promise<EngineEnv> {
    await sweepStale();
    const env = new EngineEnv();
    try {
      await env.setUp(opts);
    } catch (e) {
      await env.stop().catch(() => undefined);
      throw new Error(`engine setup failed: ${(e as Error).message}\n${env.logTails()}`);
    }
    return env;
  }

  private async setUp(opts: EngineEnvOptions): Promise<void> {
    this.opts = opts;
    for (const d of ['bin', 'run', 'containerd', 'docker', 'podman', 'roots/runc', 'roots/tsrunc', 'logs', 'image']) {
      mkdirSync(join(this.dir, d), { recursive: true });
    }
    // An executable path for engines that want one (daemon.json runtimes, --runc-binary, podman --runtime).
    this.writeTsruncBin(this.tsruncBin, TSRUNC_CJS);
    for (const [name, cjs] of Object.entries(opts.extraTsrunc ?? {})) this.writeTsruncBin(join(this.dir, 'bin', name), cjs);
    this.image = makeBusyboxImage(join(this.dir, 'image'), opts.image);
    await this.startNamespace();
    await this.startContainerd();
    await runOk(...this.ctrArgv(['image', 'import', this.image.tar]));
    if (opts.docker) {
      await this.startDockerd();
      await runOk(...this.nsArgv(DOCKER, ['-H', `unix://${this.dockerSock}`, 'load', '-i', this.image.tar]));
    }
    if (opts.podman) await runOk(...this.nsArgv('podman', [...this.podmanArgs(), 'load', '-i', this.image.tar]));
  }

  private writeTsruncBin(bin: string, cjs: string): void {
    writeFileSync(bin, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nexec ${process.execPath} ${cjs} "$@"\n`);
    chmodSync(bin, 0o755);
  }

  /** Builds another image and imports it into containerd (e.g. a variant of the rootfs). */
  async importCtrImage(name: string, opts: ImageOptions): Promise<ImageArchive> {
    const image = makeBusyboxImage(join(this.dir, 'image-' + name), opts);
    await runOk(...this.ctrArgv(['image', 'import', image.tar]));
    return image;
  }

  private async startNamespace(): Promise<void> {
    // `mount --make-rprivate /` first: nothing below may propagate to the host. The v1 hierarchies are
    // unmounted in this namespace only; the cgroup2 mount is the host's one hierarchy seen from its root.
    const script = [
      'set -e',
      'mount --make-rprivate /',
      'umount -R /sys/fs/cgroup',
      'mount -t cgroup2 none /sys/fs/cgroup',
      ...(this.opts.tmpfsRun
        ? ['run', 'containerd/state', 'roots']
            .map((d) => `mkdir -p ${join(this.dir, d)} && mount -t tmpfs -o mode=0755 tmpfs ${join(this.dir, d)}`)
            .concat(`mkdir -p ${this.roots.runc} ${this.roots.tsrunc}`)
        : []),
      `mount --bind ${this.dir}/run /run`,
      'echo ready',
      // Lives as long as our stdin: if the test process dies, the holder goes too.
      'exec cat >/dev/null',
    ].join('\n');
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: cleanEnv(),
    });
    this.holder = holder;
    let err = '';
    holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`mount namespace: no answer: ${err}`)), 10_000);
      holder.stdout!.once('data', () => {
        clearTimeout(t);
        resolve();
      });
      holder.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`mount namespace setup exited ${code}: ${err}`));
      });
    });
    this.holderNs = mntNs(this.holderPid);
    // For sweepStale(): which namespace and holder this dir belongs to, should this process die.
    writeFileSync(join(this.dir, 'holder.json'), JSON.stringify({ pid: this.holderPid, ns: this.holderNs, owner: process.pid }));
  }

  /** [cmd, args] that run `cmd args` inside the namespace. */
  nsArgv(cmd: string, args: string[]): [string, string[]] {
    return ['nsenter', ['-t', String(this.holderPid), '-m', '--', cmd, ...args]];
  }

  /** Runs a command inside the namespace. */
  exec(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> {
    return run(...this.nsArgv(cmd, args), opts);
  }

  private spawnDaemon(name: string, cmd: string, args: string[], env?: Record<string, string>): Daemon {
    const log = join(this.dir, 'logs', `${name}.log`);
    this.logFiles.push(log);
    const fd = openSync(log, 'a');
    const child = spawn(...this.nsArgv(cmd, args), { stdio: ['ignore', fd, fd], env: cleanEnv(env), detached: true });
    closeSync(fd);
    if (!child.pid) throw new Error(`${name} did not start`);
    child.on('error', () => {});
    // nsenter without --fork execs the daemon: this pid is the daemon's.
    const d: Daemon = { name, child, pid: child.pid, log };
    this.daemons.set(name, d);
    return d;
  }

  private async waitReady(d: Daemon, probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (!alive(d.pid) || procState(d.pid) === 'Z') throw new Error(`${d.name} exited during start-up`);
      if (await probe()) return;
      if (Date.now() > deadline) throw new Error(`${d.name} not ready after ${ms} ms`);
      await sleep(100);
    }
  }

  private containerdConfig(): string {
    // No CRI unless a test asks for it (test/engines/cri.test.ts): it wants CNI paths and more.
    return containerdConfig(join(this.dir, 'containerd'), this.containerdSock, { cri: this.opts.cri?.(this.dir) });
  }

  /** Starts containerd (also used to restart it after a SIGKILL). */
  async startContainerd(): Promise<void> {
    const config = join(this.dir, 'containerd', 'config.toml');
    writeFileSync(config, this.containerdConfig());
    const path = this.opts.containerdPath ? { PATH: [...this.opts.containerdPath, process.env.PATH].join(':') } : undefined;
    const d = this.spawnDaemon('containerd', 'containerd', ['--config', config], path);
    await this.waitReady(d, async () => existsSync(this.containerdSock) && (await run(...this.ctrArgv(['version']), { timeout: 5000 })).code === 0);
  }

  /** SIGKILLs containerd and waits for it to be gone (its shims keep running, as they should). */
  async killContainerd(): Promise<void> {
    const d = this.daemons.get('containerd');
    if (!d) return;
    process.kill(d.pid, 'SIGKILL');
    await waitGone(d.pid, 10_000);
    this.daemons.delete('containerd');
  }

  private async startDockerd(): Promise<void> {
    const dd = join(this.dir, 'docker');
    const config = join(dd, 'daemon.json');
    writeFileSync(
      config,
      JSON.stringify(
        {
          'data-root': join(dd, 'data'),
          'exec-root': join(dd, 'exec'),
          pidfile: join(dd, 'docker.pid'),
          hosts: [`unix://${this.dockerSock}`],
          containerd: this.containerdSock,
          'exec-opts': ['native.cgroupdriver=cgroupfs'],
          'cgroup-parent': `/${this.tag}-docker`,
          'storage-driver': 'overlay2',
          'userland-proxy': false,
          runtimes: {
            tsrunc: { path: this.tsruncBin },
            ...Object.fromEntries(Object.keys(this.opts.extraTsrunc ?? {}).map((name) => [name, { path: join(this.dir, 'bin', name) }])),
          },
          // The old trust key would otherwise go to /etc/docker/key.json on the host.
          'deprecated-key-path': join(dd, 'key.json'),
        },
        null,
        2,
      ),
    );
    const d = this.spawnDaemon('dockerd', 'dockerd', [
      '--config-file', config,
      '--iptables=false', '--bridge=none', '--ip-forward=false', '--ip-masq=false',
    ]);
    await this.waitReady(d, async () => existsSync(this.dockerSock) && (await this.docker(['version'], { timeout: 5000 })).code === 0);
  }

  // ---- engine commands ----

  ctrArgv(args: string[]): [string, string[]] {
    return this.nsArgv('ctr', ['-a', this.containerdSock, '-n', this.ns, ...args]);
  }

  ctr(args: string[], opts?: RunOptions): Promise<RunResult> {
    return run(...this.ctrArgv(args), opts);
  }

  /**
   * `ctr run` arguments selecting a runtime binary and its root. `--cpu-shares 0`: ctr's default (1024)
   * becomes cpu.weight, and the cpu controller may be bound to v1 (it is on this machine).
   */
  ctrRuntimeArgs(runtime: 'runc' | 'tsrunc'): string[] {
    const bin = runtime === 'runc' ? RUNC : this.tsruncBin;
    return ['--cpu-shares', '0', '--runc-binary', bin, '--runc-root', this.roots[runtime]];
  }

  /** Where dockerd 20.10 tells a runtime to keep its state (`--root`). */
  dockerRuntimeRoot(_runtime: 'runc' | 'tsrunc'): string {
    return join(this.dir, 'docker', 'exec', 'runtime-runc', 'moby');
  }

  docker(args: string[], opts?: RunOptions): Promise<RunResult> {
    return this.exec(DOCKER, ['-H', `unix://${this.dockerSock}`, ...args], opts);
  }

  /** Podman with every path in the temp dir, cgroupfs, and our tag as cgroup parent. */
  podmanArgs(): string[] {
    const p = join(this.dir, 'podman');
    return [
      '--root', join(p, 'root'),
      '--runroot', join(p, 'runroot'),
      '--tmpdir', join(p, 'tmp'),
      '--storage-driver', 'overlay',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
    ];
  }

  podman(args: string[], opts?: RunOptions): Promise<RunResult> {
    return this.exec('podman', [...this.podmanArgs(), ...args], opts);
  }

  /** The tail of every daemon log, for failure messages. */
  logTails(lines = 30): string {
    return this.logFiles
      .map((f) => {
        let text = '';
        try {
          text = readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
        } catch {
          // no log yet
        }
        return `--- ${f}\n${text}`;
      })
      .join('\n');
  }

  /** Last lines of one daemon's log. */
  daemonLog(name: 'containerd' | 'dockerd'): string {
    try {
      return readFileSync(join(this.dir, 'logs', `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  // ---- teardown ----

  /** Stops everything by PID and removes every cgroup, mount and file this env made. */
  async stop(): Promise<void> {
    // Daemons first, gracefully: SIGTERM, then SIGKILL.
    for (const name of ['dockerd', 'containerd']) {
      const d = this.daemons.get(name);
      if (!d) continue;
      try {
        process.kill(d.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      if (!(await waitGone(d.pid, 15_000))) {
        try {
          process.kill(d.pid, 'SIGKILL');
        } catch {
          // gone
        }
        await waitGone(d.pid, 5000);
      }
      this.daemons.delete(name);
    }
    const h = this.holder;
    const problems = await cleanUp({
      ns: this.holderNs,
      tag: this.tag,
      dir: this.dir,
      spare: h?.pid,
      endHolder: async () => {
        if (!h?.pid || !alive(h.pid)) return;
        h.stdin?.end();
        if (!(await waitGone(h.pid, 5000))) {
          h.kill('SIGKILL');
          await waitGone(h.pid, 5000);
        }
      },
    });
    if (problems.length > 0) throw new Error(`engine teardown: ${problems.join('; ')}`);
  }
}

/** Processes in mount namespace `ns`, and all their descendants (containers live in child namespaces). */
function processesOfNs(ns: string): number[] {
  const pids = allPids();
  const found = new Set(pids.filter((p) => p !== process.pid && mntNs(p) === ns));
  // Descendants (container inits, shim children) by parent links; repeat until no change.
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of pids) {
      const pp = ppidOf(p);
      if (pp !== undefined && found.has(pp) && !found.has(p)) {
        found.add(p);
        grew = true;
      }
    }
  }
  return [...found];
}

/** Top-level directories of the host's cgroup2 tree named with `tag` (the engines are told to use them). */
function cgroupsOfTag(tag: string): string[] {
  let root: string;
  try {
    root = hostCgroup2();
  } catch {
    return [];
  }
  return readdirSync(root)
    .filter((n) => n === tag || n.startsWith(`${tag}-`))
    .map((n) => join(root, n));
}

function removeCgroupTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) removeCgroupTree(join(dir, e));
  try {
    rmdirSync(dir);
  } catch {
    // still populated: reported by the caller
  }
}

/**
 * Kills what is left in namespace `ns` (shims, conmon, containers; `spare` is the holder), removes the
 * cgroups named with `tag`, ends the namespace, and removes `dir` unless mounts below it remain on the host.
 */
async function cleanUp(o: { ns?: string; tag: string; dir: string; spare?: number; endHolder: () => Promise<void> }): Promise<string[]> {
  const problems: string[] = [];
  for (let round = 0; o.ns && round < 10; round++) {
    const left = processesOfNs(o.ns).filter((p) => p !== o.spare && procState(p) !== 'Z');
    if (left.length === 0) break;
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(100);
  }
  for (const cg of cgroupsOfTag(o.tag)) {
    try {
      writeFileSync(join(cg, 'cgroup.kill'), '1');
    } catch {
      // kernels before 5.14: the processes were killed above
    }
  }
  for (let i = 0; i < 20 && cgroupsOfTag(o.tag).length > 0; i++) {
    for (const cg of cgroupsOfTag(o.tag)) removeCgroupTree(cg);
    if (cgroupsOfTag(o.tag).length > 0) await sleep(100);
  }
  problems.push(...cgroupsOfTag(o.tag).map((c) => `cgroup left: ${c}`));
  // The namespace and its mounts die with the holder (and with the last process inside, all killed above).
  await o.endHolder();
  const mounts = hostMountsUnder(o.dir);
  if (mounts.length > 0) problems.push(`mounts left on the host: ${mounts.join(', ')}`);
  else rmSync(o.dir, { recursive: true, force: true });
  return problems;
}

/**
 * Cleans up after earlier runs whose test process died (its daemons run on in their own session):
 * every /tmp/tsrunc-eng-* dir whose owning process is gone.
 */
async function sweepStale(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    const m = /^(tsrunc-eng-[0-9a-f]{6})-/.exec(name);
    if (!m) continue;
    const dir = join(tmpdir(), name);
    let info: { pid: number; ns: string; owner: number };
    try {
      info = JSON.parse(readFileSync(join(dir, 'holder.json'), 'utf8'));
    } catch {
      continue; // being set up right now, or not ours
    }
    if (alive(info.owner) && procState(info.owner) !== 'Z') continue;
    const holderAlive = alive(info.pid) && mntNs(info.pid) === info.ns;
    // Namespace inode numbers are reused: kill by namespace only when a process in it names this dir.
    const proven = processesOfNs(info.ns).some((p) => cmdline(p).includes(dir));
    await cleanUp({
      ns: proven ? info.ns : undefined,
      tag: m[1],
      dir,
      spare: holderAlive ? info.pid : undefined,
      endHolder: async () => {
        if (!holderAlive) return;
        try {
          process.kill(info.pid, 'SIGKILL');
        } catch {
          // gone
        }
        await waitGone(info.pid, 5000);
      },
    });
  }
}

/** Whether a program is installed (tests of an engine that is missing are skipped). */
export function installed(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** Live processes of our shim (argv ends in containerd-shim-tsrunc-v2) whose argv has every one of `args`. */
export function ourShimProcesses(...args: string[]): number[] {
  return allPids().filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('containerd-shim-tsrunc-v2')) && args.every((a) => argv.includes(a)) && alive(pid);
    } catch {
      return false;
    }
  });
}

/** The json log lines tsrunc wrote for one container under containerd's v2 shim (`log.json` in the bundle). */
export function shimBundleDir(env: EngineEnv, id: string): string {
  return join(env.dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', env.ns, id);
}

/**
 * containerd's config for a daemon of the tests' own: root, state and opt below `dir`, the sockets at
 * `sock` and `sock`.ttrpc, the snapshotters this host cannot use off; CRI only with `cri` (its section).
 */
export function containerdConfig(dir: string, sock: string, opts: { cri?: string } = {}): string {
  return [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    `disabled_plugins = [${opts.cri === undefined ? '"io.containerd.grpc.v1.cri", ' : ''}"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]`,
    '[grpc]',
    `  address = "${sock}"`,
    '[ttrpc]',
    `  address = "${sock}.ttrpc"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
    opts.cri ?? '',
    '',
  ].join('\n');
}
