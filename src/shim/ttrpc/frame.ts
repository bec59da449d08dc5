// ttrpc framing (github.com/containerd/ttrpc v1.1, the version containerd 1.6 uses): every message is a
// 10-byte header { u32 BE payload length, u32 BE stream id, u8 type, u8 flags } and the payload.
// Clients use odd stream ids; type 1 is a request, 2 a response; flags are reserved (0).

export const HEADER_LENGTH = 10;
/** Go's ttrpc refuses bigger payloads (messageLengthMax = 4 << 20). */
export const MAX_MESSAGE_LENGTH = 4 << 20;
export const MESSAGE_TYPE_REQUEST = 1;
export const MESSAGE_TYPE_RESPONSE = 2;
/** containerd puts the namespace of every call in this metadata key. */
export const NAMESPACE_METADATA_KEY = 'containerd-namespace-ttrpc';

export interface FrameHeader {
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

export function encodeFrame(streamId: number, type: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_MESSAGE_LENGTH) throw new RangeError(`ttrpc: message of ${payload.length} bytes exceeds ${MAX_MESSAGE_LENGTH}`);
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(streamId >>> 0, 4);
  frame[8] = type;
  frame[9] = 0;
  frame.set(payload, HEADER_LENGTH);
  return frame;
}

export function decodeHeader(b: Uint8Array, offset = 0): FrameHeader {
  const v = new DataView(b.buffer, b.byteOffset + offset, HEADER_LENGTH);
  return { length: v.getUint32(0), streamId: v.getUint32(4), type: v.getUint8(8), flags: v.getUint8(9) };
}

export type FrameEvent =
  | { kind: 'frame'; header: FrameHeader; payload: Buffer }
  /** A header announced more than MAX_MESSAGE_LENGTH: its payload is skipped, never buffered. */
  | { kind: 'oversized'; header: FrameHeader };

/**
 * Incremental decoder for a byte stream. It buffers at most one header plus one payload of at most
 * MAX_MESSAGE_LENGTH bytes; an oversized payload is discarded as it arrives (what Go's ttrpc does before
 * answering ResourceExhausted), so a lying length can never make it allocate.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: FrameHeader | null = null;
  private discard = 0;

  /** Bytes currently held (for a global memory budget). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns the events they complete, in order. */
  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    let data = chunk;
    while (data.length > 0 || (this.header === null && this.buffered >= HEADER_LENGTH)) {
      if (this.discard > 0) {
        const n = Math.min(this.discard, data.length);
        this.discard -= n;
        data = data.subarray(n);
        continue;
      }
      if (data.length > 0) {
        this.chunks.push(data);
        this.buffered += data.length;
        data = Buffer.alloc(0);
      }
      if (this.header === null) {
        if (this.buffered < HEADER_LENGTH) break;
        const head = this.take(HEADER_LENGTH);
        const header = decodeHeader(head);
        if (header.length > MAX_MESSAGE_LENGTH) {
          out.push({ kind: 'oversized', header });
          this.discard = header.length;
          // Whatever is buffered belongs to the skipped payload first.
          const rest = this.take(this.buffered);
          data = rest;
          continue;
        }
        this.header = header;
      }
      if (this.buffered < this.header.length) break;
      const payload = this.take(this.header.length);
      out.push({ kind: 'frame', header: this.header, payload });
      this.header = null;
    }
    return out;
  }

  /** Removes and returns the first n buffered bytes (one copy at most). */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const head = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return head;
  }
}
