/*
 * ttrpc server on a unix socket (the protocol containerd 1.6 speaks to shims; see src/shim/README.md).
 *
 * API (for src/shim/service/*):
 *
 *   import { TtrpcServer } from '../ttrpc/server';
 *   import { NotFound, FailedPrecondition } from '../ttrpc/errors';
 *   import { Task } from '../proto';                      // GenService of containerd.task.v2.Task
 *
 *   const server = new TtrpcServer();
 *   server.register(Task, {
 *     async state(req, ctx) {                            // req: StateRequest (decoded)
 *       if (!known(req.id)) throw new NotFound(`container "${req.id}" not found`);
 *       return { id: req.id, pid: 42, status: Status.RUNNING };   // MessageInitShape<StateResponse>
 *     },
 *     async wait(req, ctx) { ...; ctx.signal }           // aborted when the caller disconnects or times out
 *   });                                                  // methods left out answer Unimplemented
 *   await server.listen('/run/containerd/s/abc');       // socket file mode 0600, parent dir 0700
 *   ...
 *   await server.close();                                // stops listening, ends connections
 *
 * - Handlers may be sync or async; a throw answers with statusOf(err) (errors.ts): TtrpcError subclasses
 *   keep their code (NotFound 5, AlreadyExists 6, FailedPrecondition 9, InvalidArgument 3,
 *   Unimplemented 12, Unavailable 14, Internal 13...), ConfigError is InvalidArgument, others Unknown.
 * - ctx: { service, method, namespace (metadata "containerd-namespace-ttrpc"), metadata, signal, streamId }.
 * - `server.listenFd`/`server.listen(path)` return once bound; `server.connections` counts live clients;
 *   the 'idle' callback (options.onIdle) fires when the last connection closes (for Shutdown logic).
 * - Robustness: frames over 4 MiB are skipped and answered ResourceExhausted; an undecodable Request or
 *   payload is InvalidArgument; even stream ids are InvalidArgument; unknown service/method Unimplemented;
 *   calls beyond 4096 in flight per connection (16384 in all) are ResourceExhausted; a peer that stops
 *   reading its answers is paused; partial frames share a 64 MiB budget.
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { RequestSchema, ResponseSchema } from '../proto/gen/ttrpc/ttrpc_pb';
import { Code, statusOf, TtrpcError } from './errors';
import { encodeFrame, FrameDecoder, MAX_MESSAGE_LENGTH, MESSAGE_TYPE_REQUEST, MESSAGE_TYPE_RESPONSE, NAMESPACE_METADATA_KEY } from './frame';

export { NAMESPACE_METADATA_KEY };

export interface CallContext {
  service: string;
  method: string;
  streamId: number;
  /** From metadata "containerd-namespace-ttrpc", if sent. */
  namespace: string | undefined;
  metadata: ReadonlyMap<string, readonly string[]>;
  /** Aborted when the client disconnects, its timeout_nano passes, or the server closes. */
  signal: AbortSignal;
}

type Awaitable<T> = T | Promise<T>;
export type Handler<I extends DescMessage, O extends DescMessage> = (
  req: MessageShape<I>,
  ctx: CallContext,
) => Awaitable<MessageInitShape<O>>;

/** The handler object for a generated service: one optional function per method, by localName. */
export type ServiceImpl<S extends DescService> = S extends { method: infer M }
  ? { [K in keyof M]?: M[K] extends { input: infer I extends DescMessage; output: infer O extends DescMessage } ? Handler<I, O> : never }
  : never;

export interface ServerOptions {
  /** Live connections at most; more are closed on accept. containerd uses a handful. */
  maxConnections?: number;
  /**
   * Calls in progress per connection, and over all connections; calls beyond are answered
   * ResourceExhausted at once. Not backpressure: Wait calls legitimately stay in flight for the life of
   * a process, and pausing the reads behind them would deadlock the connection.
   */
  maxInflightPerConnection?: number;
  maxInflight?: number;
  /** Unsent response bytes per connection before reading from it pauses. */
  maxPendingWriteBytes?: number;
  /** Bytes of partly received frames over all connections; a connection that needs more is closed. */
  maxBufferedBytes?: number;
  /** Called when the last connection closes. */
  onIdle?: () => void;
  /** Diagnostics (malformed input, dropped connections); never required. */
  log?: (message: string) => void;
}

interface Route {
  method: DescMethod;
  handler: (req: never, ctx: CallContext) => unknown;
}

const EMPTY = new Uint8Array(0);

export class TtrpcServer {
  private readonly routes = new Map<string, Map<string, Route | null>>();
  private readonly sockets = new Set<Socket>();
  private readonly aborts = new Set<AbortController>();
  private server: Server | null = null;
  private path: string | null = null;
  private buffered = 0;
  /** @internal */ inflight = 0;
  private readonly opts: Required<Omit<ServerOptions, 'onIdle' | 'log'>> & Pick<ServerOptions, 'onIdle' | 'log'>;

  constructor(options: ServerOptions = {}) {
    this.opts = {
      maxConnections: 256,
      maxInflightPerConnection: 4096,
      maxInflight: 16384,
      maxPendingWriteBytes: 8 << 20,
      maxBufferedBytes: 64 << 20,
      ...options,
    };
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Registers a service; methods without a handler answer Unimplemented. */
  register<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    const methods = new Map<string, Route | null>();
    const handlers = impl as Record<string, Route['handler'] | undefined>;
    for (const method of service.methods) {
      const handler = handlers[method.localName];
      methods.set(method.name, typeof handler === 'function' ? { method, handler: handler.bind(impl) } : null);
    }
    this.routes.set(service.typeName, methods);
    return this;
  }

  /**
   * Listens on a socket file, mode 0600 in a directory created 0700 (root only; see README). A socket
   * file nobody answers on is replaced; one a live server answers on fails with code EADDRINUSE, so
   * `start` can hand out that server's address instead (as containerd's shims do).
   */
  async listen(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const server = this.makeServer();
    try {
      await bind(server, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (await answers(path))) {
        this.server = null;
        throw err;
      }
      unlinkSync(path);
      await bind(server, path);
    }
    chmodSync(path, 0o600);
    this.path = path;
  }

  /** Serves on an already bound and listening socket fd (inherited from a parent process). */
  async listenFd(fd: number): Promise<void> {
    const server = this.makeServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting, aborts calls in progress, closes connections, removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const a of this.aborts) a.abort(new TtrpcError(Code.Unavailable, 'ttrpc: server closed'));
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.path) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
      this.path = null;
    }
  }

  private makeServer(): Server {
    if (this.server) throw new Error('ttrpc: server already listening');
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.opts.maxConnections;
    server.on('error', (err) => this.opts.log?.(`ttrpc: listener error: ${err.message}`));
    this.server = server;
    return server;
  }

  private accept(socket: Socket): void {
    const conn = new Connection(this, socket);
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      conn.closed();
      if (this.sockets.size === 0) this.opts.onIdle?.();
    });
  }

  /** @internal */ get options() {
    return this.opts;
  }
  /** @internal */ reserve(n: number): boolean {
    if (this.buffered + n > this.opts.maxBufferedBytes) return false;
    this.buffered += n;
    return true;
  }
  /** @internal */ release(n: number): void {
    this.buffered -= n;
  }
  /** @internal */ track(a: AbortController, on: boolean): void {
    if (on) this.aborts.add(a);
    else this.aborts.delete(a);
  }
  /** @internal */ route(service: string, method: string): Route | TtrpcError {
    const methods = this.routes.get(service);
    if (!methods) return new TtrpcError(Code.Unimplemented, `service ${service}`);
    const route = methods.get(method);
    if (route === undefined) return new TtrpcError(Code.Unimplemented, `method ${method}`);
    if (route === null) return new TtrpcError(Code.Unimplemented, `${service}/${method} is not implemented`);
    return route;
  }
}

function bind(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Permissions are narrowed before the first accept: the umask gives 0600 from the start.
    const mask = process.umask(0o177);
    try {
      server.listen({ path, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(mask);
    }
  });
}

/** Whether a server accepts connections on the socket file at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** One client connection: decodes frames, runs calls concurrently, writes responses in completion order. */
class Connection {
  private readonly decoder = new FrameDecoder();
  private readonly inflight = new Map<number, AbortController>();
  private held = 0;
  private dead = false;
  private pausedForLoad = false;

  constructor(
    private readonly server: TtrpcServer,
    private readonly socket: Socket,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('drain', () => this.maybeResume());
    // EOF means the client went away (Go's ttrpc closes too): its calls are aborted on 'close'.
  }

  closed(): void {
    this.dead = true;
    this.server.release(this.held);
    this.held = 0;
    for (const a of this.inflight.values()) a.abort(new TtrpcError(Code.Canceled, 'ttrpc: client disconnected'));
    this.inflight.clear();
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    let events;
    try {
      events = this.decoder.push(chunk);
    } catch (err) {
      this.fail(`undecodable stream: ${(err as Error).message}`);
      return;
    }
    // Keep the global account of partial-frame bytes in step with what the decoder holds.
    const now = this.decoder.bufferedBytes;
    if (now > this.held && !this.server.reserve(now - this.held)) {
      this.fail('ttrpc: buffered bytes over budget');
      return;
    }
    if (now < this.held) this.server.release(this.held - now);
    this.held = now;

    for (const ev of events) {
      if (this.dead) return;
      if (ev.kind === 'oversized') {
        this.respond(ev.header.streamId, Code.ResourceExhausted, `message length ${ev.header.length} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`);
        continue;
      }
      // Other types are ignored, as Go's ttrpc does, for future compatibility.
      if (ev.header.type !== MESSAGE_TYPE_REQUEST) continue;
      this.onRequest(ev.header.streamId, ev.payload);
    }
    this.maybePause();
  }

  private onRequest(streamId: number, payload: Uint8Array): void {
    let req;
    try {
      req = fromBinary(RequestSchema, payload, { readUnknownFields: false });
    } catch (err) {
      this.respond(streamId, Code.InvalidArgument, `unmarshal request error: ${(err as Error).message}`);
      return;
    }
    if (streamId % 2 !== 1) {
      this.respond(streamId, Code.InvalidArgument, 'StreamID must be odd for client initiated streams');
      return;
    }
    if (this.inflight.has(streamId)) {
      this.respond(streamId, Code.InvalidArgument, `stream ${streamId} is already in use`);
      return;
    }
    const o = this.server.options;
    if (this.inflight.size >= o.maxInflightPerConnection || this.server.inflight >= o.maxInflight) {
      this.respond(streamId, Code.ResourceExhausted, 'ttrpc: too many calls in flight');
      return;
    }
    const route = this.server.route(req.service, req.method);
    if (route instanceof TtrpcError) {
      this.respond(streamId, route.code, route.message);
      return;
    }
    let input;
    try {
      input = fromBinary(route.method.input, req.payload, { readUnknownFields: false });
    } catch (err) {
      this.respond(streamId, Code.InvalidArgument, `ttrpc: error unmarshalling payload: ${(err as Error).message}`);
      return;
    }

    const metadata = new Map<string, string[]>();
    for (const kv of req.metadata) {
      const list = metadata.get(kv.key);
      if (list) list.push(kv.value);
      else metadata.set(kv.key, [kv.value]);
    }
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    if (req.timeoutNano > 0n) {
      // setTimeout takes at most 2^31-1 ms; longer deadlines are as good as none.
      const ms = Number(req.timeoutNano / 1_000_000n);
      if (ms < 2 ** 31 - 1) {
        timer = setTimeout(() => abort.abort(new TtrpcError(Code.DeadlineExceeded, 'ttrpc: deadline exceeded')), ms);
      }
    }
    const ctx: CallContext = {
      service: req.service,
      method: req.method,
      streamId,
      namespace: metadata.get(NAMESPACE_METADATA_KEY)?.[0],
      metadata,
      // Made on first use: most handlers never look, and an AbortSignal costs ~50 µs per call.
      get signal() {
        return abort.signal;
      },
    };
    this.inflight.set(streamId, abort);
    this.server.track(abort, true);
    this.server.inflight++;

    const output = route.method.output;
    Promise.resolve()
      .then(() => route.handler(input as never, ctx))
      .then(
        (result) => {
          const bytes = toBinary(output, create(output, (result ?? {}) as MessageInitShape<DescMessage>));
          if (bytes.length > MAX_MESSAGE_LENGTH - 64) throw new TtrpcError(Code.ResourceExhausted, `response of ${bytes.length} bytes is too large`);
          return bytes;
        },
      )
      .then(
        (bytes) => this.finish(streamId, abort, Code.OK, '', bytes),
        (err: unknown) => {
          const st = statusOf(err);
          this.finish(streamId, abort, st.code, st.message, EMPTY);
        },
      )
      .catch((err: unknown) => this.server.options.log?.(`ttrpc: response failed: ${(err as Error).message}`))
      .finally(() => clearTimeout(timer));
  }

  private finish(streamId: number, abort: AbortController, code: Code, message: string, payload: Uint8Array): void {
    this.server.track(abort, false);
    this.server.inflight--;
    if (this.inflight.get(streamId) !== abort) return; // connection gone
    this.inflight.delete(streamId);
    this.respond(streamId, code, message, payload);
    this.maybeResume();
  }

  private respond(streamId: number, code: Code, message: string, payload: Uint8Array = EMPTY): void {
    if (this.dead || this.socket.destroyed || !this.socket.writable) return;
    // Go's ttrpc always sends a status, code 0 on success.
    const resp = create(ResponseSchema, { status: { code, message }, payload });
    this.socket.write(encodeFrame(streamId, MESSAGE_TYPE_RESPONSE, toBinary(ResponseSchema, resp)));
  }

  private maybePause(): void {
    const o = this.server.options;
    // Only a peer that does not read its answers is paused: it is stuck anyway.
    if (!this.pausedForLoad && this.socket.writableLength > o.maxPendingWriteBytes) {
      this.pausedForLoad = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    const o = this.server.options;
    if (this.pausedForLoad && this.socket.writableLength <= o.maxPendingWriteBytes) {
      this.pausedForLoad = false;
      this.socket.resume();
    }
  }

  private fail(reason: string): void {
    this.server.options.log?.(`ttrpc: closing connection: ${reason}`);
    this.socket.destroy();
  }
}
