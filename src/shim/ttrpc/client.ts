/*
 * ttrpc client: used to Forward events to containerd (TTRPC_ADDRESS) and by the tests.
 *
 *   const c = await TtrpcClient.connect('unix:///run/containerd/containerd.sock.ttrpc');
 *   await c.call(Events.method.forward, { envelope: {...} }, { timeoutMs: 5000 });
 *   const st = await c.call(Task.method.state, { id: 'x' }, { namespace: 'default' });
 *   c.close();
 *
 * A call resolves with the decoded response or rejects with a TtrpcError: the server's status, or
 * Unavailable "ttrpc: closed" when the connection ends before the answer, or DeadlineExceeded.
 */
import { connect, type Socket } from 'node:net';
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { RequestSchema, ResponseSchema } from '../proto/gen/ttrpc/ttrpc_pb';
import { socketPath } from './address';
import { Code, TtrpcError } from './errors';
import { encodeFrame, FrameDecoder, MESSAGE_TYPE_REQUEST, MESSAGE_TYPE_RESPONSE, NAMESPACE_METADATA_KEY } from './frame';

export interface CallOptions {
  /** Sent as timeout_nano, and the call rejects with DeadlineExceeded after it. */
  timeoutMs?: number;
  /** Sent as metadata "containerd-namespace-ttrpc". */
  namespace?: string;
  metadata?: Record<string, string | string[]>;
}

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (err: TtrpcError) => void;
  timer?: NodeJS.Timeout;
}

export class TtrpcClient {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedErr: TtrpcError | null = null;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.shut(new TtrpcError(Code.Unavailable, `ttrpc: ${err.message}`)));
    socket.on('close', () => this.shut(new TtrpcError(Code.Unavailable, 'ttrpc: closed')));
  }

  /** Connects to "unix:///path", "/path" or an abstract name; rejects with the socket error (ENOENT...). */
  static connect(address: string, options: { timeoutMs?: number } = {}): Promise<TtrpcClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath(address));
      const timer = options.timeoutMs
        ? setTimeout(() => socket.destroy(Object.assign(new Error(`connect ${address}: timed out`), { code: 'ETIMEDOUT' })), options.timeoutMs)
        : undefined;
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TtrpcClient(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedErr !== null;
  }

  onClose(listener: () => void): void {
    if (this.closedErr) queueMicrotask(listener);
    else this.closeListeners.push(listener);
  }

  /** A typed unary call: `call(Task.method.state, { id })`. */
  async call<M extends DescMethod & { input: DescMessage; output: DescMessage }>(
    method: M,
    request: MessageInitShape<M['input']>,
    options: CallOptions = {},
  ): Promise<MessageShape<M['output']>> {
    const payload = toBinary(method.input, create(method.input, request));
    const reply = await this.callRaw(method.parent.typeName, method.name, payload, options);
    try {
      return fromBinary(method.output, reply) as MessageShape<M['output']>;
    } catch (err) {
      throw new TtrpcError(Code.Internal, `ttrpc: undecodable ${method.output.typeName}: ${(err as Error).message}`);
    }
  }

  /** A call with an already encoded payload; resolves with the response payload bytes. */
  callRaw(service: string, method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    const metadata: { key: string; value: string }[] = [];
    if (options.namespace) metadata.push({ key: NAMESPACE_METADATA_KEY, value: options.namespace });
    for (const [key, v] of Object.entries(options.metadata ?? {})) {
      for (const value of Array.isArray(v) ? v : [v]) metadata.push({ key, value });
    }
    const timeoutMs = options.timeoutMs ?? 0;
    const req = create(RequestSchema, { service, method, payload, timeoutNano: BigInt(Math.round(timeoutMs * 1e6)), metadata });
    const id = this.nextId;
    // Odd ids only; wrap before 2^32 (a client would need 2 billion calls to get there).
    this.nextId = this.nextId >= 0xfffffffd ? 1 : this.nextId + 2;
    return new Promise<Uint8Array>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new TtrpcError(Code.DeadlineExceeded, `ttrpc: ${service}/${method}: deadline exceeded`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      try {
        this.socket.write(encodeFrame(id, MESSAGE_TYPE_REQUEST, toBinary(RequestSchema, req)));
      } catch (err) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        reject(new TtrpcError(Code.InvalidArgument, (err as Error).message));
      }
    });
  }

  close(): void {
    this.socket.destroy();
    this.shut(new TtrpcError(Code.Unavailable, 'ttrpc: closed'));
  }

  private onData(chunk: Buffer): void {
    let events;
    try {
      events = this.decoder.push(chunk);
    } catch (err) {
      this.socket.destroy();
      return;
    }
    for (const ev of events) {
      const p = this.pending.get(ev.header.streamId);
      if (!p) continue; // timed out already, or not ours
      this.pending.delete(ev.header.streamId);
      clearTimeout(p.timer);
      if (ev.kind === 'oversized') {
        p.reject(new TtrpcError(Code.ResourceExhausted, `ttrpc: response of ${ev.header.length} bytes is too large`));
        continue;
      }
      if (ev.header.type !== MESSAGE_TYPE_RESPONSE) {
        p.reject(new TtrpcError(Code.Internal, `ttrpc: unexpected message type ${ev.header.type}`));
        continue;
      }
      let resp;
      try {
        resp = fromBinary(ResponseSchema, ev.payload, { readUnknownFields: false });
      } catch (err) {
        p.reject(new TtrpcError(Code.Internal, `ttrpc: undecodable response: ${(err as Error).message}`));
        continue;
      }
      if (resp.status && resp.status.code !== Code.OK) p.reject(new TtrpcError(resp.status.code as Code, resp.status.message));
      else p.resolve(resp.payload);
    }
  }

  private shut(err: TtrpcError): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const l of this.closeListeners.splice(0)) l();
  }
}
