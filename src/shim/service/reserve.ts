// A grouped shim can be shutting down (its last container deleted, containerd's Shutdown) just as a
// `start` for a new container of its group finds it: handing containerd that address loses the
// container (containerd dials a socket that is gone, or its Create is cut off). So `start` does not
// just connect: it asks the shim to keep serving until this container's Create arrives, with one ttrpc
// call on the Task socket, Connect(id) with metadata RESERVE_KEY. The shim decides on its event loop,
// where it also decides to shut down: it either answers OK (and stays, see TaskService) or Unavailable
// (it is going; its socket file goes before it closes, and `start` then binds a new shim).
// The wire is written with protobuf-es's wire writer, not the generated schemas: `start` runs once per
// container and must not boot the descriptor registry (src/shim/README.md, load cost).
import net from 'node:net';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { decodeHeader, encodeFrame, HEADER_LENGTH, MESSAGE_TYPE_REQUEST, MESSAGE_TYPE_RESPONSE } from '../ttrpc/frame';

/** Request metadata that makes a Connect a reservation. */
export const RESERVE_KEY = 'tsrunc-reserve';
const UNAVAILABLE = 14;

/** 'silent': no answer in time, or another error (a shim too busy, or one without reservations: used as before). */
export type Reservation = 'reserved' | 'going' | 'silent';

/** ttrpc Request { service = 1; method = 2; payload = 3; metadata = 5 } of Task.Connect(ConnectRequest { id = 1 }). */
function connectRequest(id: string): Uint8Array {
  const payload = new BinaryWriter().tag(1, WireType.LengthDelimited).string(id).finish();
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string('containerd.task.v2.Task');
  w.tag(2, WireType.LengthDelimited).string('Connect');
  w.tag(3, WireType.LengthDelimited).bytes(payload);
  w.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(RESERVE_KEY).tag(2, WireType.LengthDelimited).string(id).join();
  return w.finish();
}

/** The status code of a ttrpc Response { Status status = 1 { int32 code = 1 } ; bytes payload = 2 }. */
function statusCode(payload: Uint8Array): number {
  const r = new BinaryReader(payload);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const s = new BinaryReader(r.bytes());
    while (s.pos < s.len) {
      const [f, w] = s.tag();
      if (f === 1) return s.int32();
      s.skip(w);
    }
    return 0;
  }
  return 0;
}

/**
 * Asks the shim on socket `p` to stay for container `id`. 'going': it refused (shutting down), or the
 * connection failed or closed unanswered (a dying or dead shim).
 */
export function reserve(p: string, id: string, timeoutMs = 5000): Promise<Reservation> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const s = net.connect(p);
    const done = (r: Reservation) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    s.once('connect', () => s.write(encodeFrame(1, MESSAGE_TYPE_REQUEST, connectRequest(id))));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < HEADER_LENGTH) return;
      const h = decodeHeader(buf);
      if (buf.length < HEADER_LENGTH + h.length) return;
      if (h.streamId !== 1 || h.type !== MESSAGE_TYPE_RESPONSE) return done('going');
      const code = statusCode(buf.subarray(HEADER_LENGTH, HEADER_LENGTH + h.length));
      done(code === 0 ? 'reserved' : code === UNAVAILABLE ? 'going' : 'silent');
    });
    s.once('error', () => done('going'));
    s.once('close', () => done('going'));
  });
}
