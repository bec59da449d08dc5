// `start`: hand containerd the address of a shim for this container. The listening socket is made
// here (bind is the atomic test of "a shim for this group exists"), then passed as fd 3 to a detached
// server in a new session, outside containerd's process group: killing containerd cannot take it down.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { shimSocketAddress, socketPath } from '../ttrpc/address';
import type { ShimFlags } from './flags';
import type { Grouping } from './options';
import { canConnect } from './socket';

/** Annotations that put containers in one shim (runc's shim: a pod's containers share one). */
const GROUP_ANNOTATIONS = ['io.containerd.runc.v2.group', 'io.kubernetes.cri.sandbox-id'];

/** The group a container's shim serves: its sandbox (else itself), or the whole namespace. */
export function groupOf(id: string, annotations: Record<string, string> | undefined, grouping: Grouping): string {
  if (grouping === 'namespace') return '.tsrunc-namespace';
  for (const a of GROUP_ANNOTATIONS) if (annotations?.[a]) return annotations[a]!;
  return id;
}

/** Options containerd sends on stdin (an Any), decoded only when there are some: protobuf costs start-up time. */
async function grouping(): Promise<Grouping> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(0);
  } catch {
    return 'sandbox';
  }
  if (!bytes.length) return 'sandbox';
  // A bundle of its own (dist/shim-options.cjs): most starts get no options and never parse protobuf-es.
  const { decodeShimConfig } = require(path.join(__dirname, 'shim-options.cjs')) as typeof import('./options');
  return decodeShimConfig(bytes).group;
}

function listen(server: net.Server, p: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Binds the socket, or finds the live shim already on it (null); a stale socket file is replaced. */
async function bindOrFind(p: string): Promise<net.Server | null> {
  fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  // The socket file is made 0600 by bind itself (umask), never briefly open to others.
  const umask = process.umask(0o177);
  try {
    let server = net.createServer();
    try {
      await listen(server, p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await canConnect(p)) return null;
      fs.rmSync(p, { force: true });
      server = net.createServer();
      await listen(server, p);
    }
    fs.chmodSync(p, 0o600);
    return server;
  } finally {
    process.umask(umask);
  }
}

/**
 * Binds the group's socket (a new shim), or has the live shim on it reserve itself for container `id`
 * (null). A shim that is shutting down refuses; its socket file goes before it closes, and we bind then.
 */
async function bindOrJoin(p: string, id: string): Promise<net.Server | null> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const server = await bindOrFind(p);
    if (server) return server;
    // Loaded only here: a start that makes a new shim never pays for the protobuf wire code.
    const answer = await (await import('./reserve')).reserve(p, id);
    if (answer !== 'going') return null;
    if (Date.now() > deadline) throw new Error(`the shim on ${p} is shutting down, and its socket did not go`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function writeAtomic(file: string, data: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}`);
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The shim ranks just above containerd for the OOM killer, as containerd's shims do. */
function adjustOomScore(pid: number): void {
  try {
    const parent = Number(fs.readFileSync(`/proc/${process.ppid}/oom_score_adj`, 'utf8'));
    fs.writeFileSync(`/proc/${pid}/oom_score_adj`, String(Math.min(1000, parent + 1)));
  } catch {
    // not allowed (unprivileged): keep the inherited score
  }
}

/**
 * The pid of the group's live shim. A concurrent `start` that just bound the socket writes it right after
 * spawning the server, so it may not be there yet: wait a bounded moment for it.
 */
function groupShimPid(file: string): string | undefined {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 300; i++) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      Atomics.wait(pause, 0, 0, 10);
    }
  }
  return undefined;
}

export async function startCommand(f: ShimFlags): Promise<number> {
  const bundle = process.cwd();
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
  const address = shimSocketAddress(f.address, f.namespace, groupOf(f.id, spec.annotations, await grouping()));
  const server = await bindOrJoin(socketPath(address), f.id);
  if (server) {
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const args = [process.argv[1]!, '-namespace', f.namespace, '-id', f.id, '-address', f.address, '-publish-binary', f.publishBinary, '-socket', address];
    if (f.debug) args.push('-debug');
    // No V8 flags (native/shimlaunch/start.c says why).
    const child = spawn(process.execPath, args, { cwd: bundle, detached: true, stdio: ['ignore', 'ignore', 'ignore', fd] });
    child.unref();
    writeAtomic(path.join(bundle, 'shim.pid'), String(child.pid));
    // Later starts of the group find the shim's pid here (the server removes it when it goes).
    writeAtomic(`${socketPath(address)}.pid`, String(child.pid));
    adjustOomScore(child.pid!);
  } else {
    const pid = groupShimPid(`${socketPath(address)}.pid`);
    // (none: a shim started by an older version; containerd does not need the file)
    if (pid) writeAtomic(path.join(bundle, 'shim.pid'), pid);
  }
  writeAtomic(path.join(bundle, 'address'), address);
  process.stdout.write(address);
  // Exit without closing the listening socket: closing would unlink the path the server now owns.
  process.exit(0);
}
