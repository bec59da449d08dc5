// A raw socket speaking ttrpc frames, for tests that send what a well-behaved client never would.
import { connect, type Socket } from 'node:net';
import { fromBinary } from '@bufbuild/protobuf';
import { FrameDecoder } from '../../../src/shim/ttrpc/frame';
import { ResponseSchema, type Response } from '../../../src/shim/proto/gen/ttrpc/ttrpc_pb';

export class RawConn {
  readonly responses = new Map<number, Response>();
  closed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const ev of this.decoder.push(c)) {
        if (ev.kind === 'frame') this.responses.set(ev.header.streamId, fromBinary(ResponseSchema, ev.payload));
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  write(b: Uint8Array): void {
    this.socket.write(b);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the response on `streamId`, or rejects if the connection closes first / times out. */
  async response(streamId: number, ms = 5000): Promise<Response> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = this.responses.get(streamId);
      if (r) return r;
      if (this.closed) throw new Error(`connection closed before a response on stream ${streamId}`);
      if (Date.now() > deadline) throw new Error(`no response on stream ${streamId}`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 50);
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
