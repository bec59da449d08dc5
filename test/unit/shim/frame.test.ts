// ttrpc framing and the protobuf encoding of the messages containerd reads, checked against bytes
// worked out by hand from the wire format (what Go's ttrpc v1.1 and gogo protobuf produce).
import { describe, expect, test } from 'vitest';
import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import { AnySchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { encodeDeleteResponse } from '../../../src/shim/proto/delete-response';
import { encodeFrame, decodeHeader, FrameDecoder, HEADER_LENGTH, MAX_MESSAGE_LENGTH, type FrameEvent } from '../../../src/shim/ttrpc/frame';
import { RequestSchema, ResponseSchema } from '../../../src/shim/proto/gen/ttrpc/ttrpc_pb';
import { MetricsSchema } from '../../../src/shim/proto/gen/io/containerd/cgroups/v2/metrics_pb';
import {
  DeleteResponseSchema, StateResponseSchema, Status, TaskOOMSchema, CreateTaskRequestSchema,
  OptionsSchema, packAny, unpackAny, encodeAny, unpackJsonAny, PROCESS_SPEC_TYPE_URL, packJsonAny,
} from '../../../src/shim/proto';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('frame', () => {
  test('header: u32 BE length, u32 BE stream id, type, flags', () => {
    const f = encodeFrame(0x01020305, 1, Buffer.from('abc'));
    expect(hex(f)).toBe('00000003' + '01020305' + '01' + '00' + '616263');
    expect(decodeHeader(f)).toEqual({ length: 3, streamId: 0x01020305, type: 1, flags: 0 });
  });

  test('refuses to encode more than 4 MiB', () => {
    expect(() => encodeFrame(1, 1, new Uint8Array(MAX_MESSAGE_LENGTH + 1))).toThrow(/exceeds/);
    expect(encodeFrame(1, 1, new Uint8Array(MAX_MESSAGE_LENGTH)).length).toBe(MAX_MESSAGE_LENGTH + HEADER_LENGTH);
  });

  const frames = [encodeFrame(1, 1, Buffer.from('hello')), encodeFrame(3, 2, Buffer.alloc(0)), encodeFrame(5, 1, Buffer.alloc(70_000, 7))];
  const all = Buffer.concat(frames);
  const summary = (evs: FrameEvent[]) => evs.map((e) => (e.kind === 'frame' ? [e.header.streamId, e.header.type, e.payload.length] : ['big', e.header.length]));
  const expected = [[1, 1, 5], [3, 2, 0], [5, 1, 70_000]];

  test('decodes frames fed in one piece, byte by byte, and in random splits', () => {
    expect(summary(new FrameDecoder().push(all))).toEqual(expected);
    const d = new FrameDecoder();
    const evs: FrameEvent[] = [];
    for (let i = 0; i < all.length; i++) evs.push(...d.push(all.subarray(i, i + 1)));
    expect(summary(evs)).toEqual(expected);
    expect(d.bufferedBytes).toBe(0);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 5000) + 1;
    for (let round = 0; round < 20; round++) {
      const d2 = new FrameDecoder();
      const evs2: FrameEvent[] = [];
      for (let i = 0; i < all.length; ) {
        const n = rnd();
        evs2.push(...d2.push(all.subarray(i, i + n)));
        i += n;
      }
      expect(summary(evs2)).toEqual(expected);
    }
  });

  test('an oversized length is reported once and its payload skipped without buffering it', () => {
    const d = new FrameDecoder();
    const big = Buffer.alloc(HEADER_LENGTH);
    big.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
    big.writeUInt32BE(9, 4);
    big[8] = 1;
    const evs = d.push(big);
    expect(evs).toEqual([{ kind: 'oversized', header: { length: MAX_MESSAGE_LENGTH + 1, streamId: 9, type: 1, flags: 0 } }]);
    // Feed the payload in 1 MiB pieces: nothing is kept.
    const piece = Buffer.alloc(1 << 20);
    for (let i = 0; i < 4; i++) {
      expect(d.push(piece)).toEqual([]);
      expect(d.bufferedBytes).toBe(0);
    }
    // Last byte of the skipped payload, then a good frame in the same chunk.
    expect(summary(d.push(Buffer.concat([Buffer.alloc(1), frames[0]])))).toEqual([[1, 1, 5]]);
  });

  test('a 4 GiB length costs nothing', () => {
    const d = new FrameDecoder();
    const h = Buffer.alloc(HEADER_LENGTH, 0xff);
    expect(d.push(h)[0]).toMatchObject({ kind: 'oversized', header: { length: 0xffffffff } });
    d.push(Buffer.alloc(1000));
    expect(d.bufferedBytes).toBe(0);
  });
});

describe('messages on the wire', () => {
  test('ttrpc Request and Response', () => {
    const req = create(RequestSchema, { service: 's', method: 'm', payload: Buffer.from([1]), timeoutNano: 5n, metadata: [{ key: 'k', value: 'v' }] });
    // field 1 "s", field 2 "m", field 3 bytes, field 4 varint 5, field 5 {1:"k",2:"v"}
    expect(hex(toBinary(RequestSchema, req))).toBe('0a0173' + '12016d' + '1a0101' + '2005' + '2a06' + '0a016b' + '120176');
    const resp = fromBinary(ResponseSchema, Buffer.from('0a050805120178' + '1200', 'hex'));
    expect(resp.status?.code).toBe(5);
    expect(resp.status?.message).toBe('x');
  });

  test('DeleteResponse as the delete command prints it', () => {
    const b = toBinary(DeleteResponseSchema, create(DeleteResponseSchema, { pid: 1, exitStatus: 137, exitedAt: { seconds: 2n, nanos: 3 } }));
    expect(hex(b)).toBe('0801' + '108901' + '1a04' + '0802' + '1003');
  });

  test('StateResponse status is the containerd enum value', () => {
    const b = toBinary(StateResponseSchema, create(StateResponseSchema, { status: Status.PAUSED, execId: 'e' }));
    expect(hex(b)).toBe('2004' + '5a0165');
  });

  test('Any carries the bare type name, as containerd typeurl writes it', () => {
    const any = packAny(TaskOOMSchema, { containerId: 'c' });
    expect(any.typeUrl).toBe('containerd.events.TaskOOM');
    expect(hex(encodeAny(any))).toBe('0a19' + Buffer.from('containerd.events.TaskOOM').toString('hex') + '1203' + '0a0163');
    expect(unpackAny(any, TaskOOMSchema)?.containerId).toBe('c');
    expect(unpackAny(any, MetricsSchema)).toBeUndefined();
    // A prefixed URL from another writer is still understood.
    expect(unpackAny(create(AnySchema, { typeUrl: 'type.googleapis.com/containerd.events.TaskOOM', value: any.value }), TaskOOMSchema)?.containerId).toBe('c');
    expect(packAny(MetricsSchema, {}).typeUrl).toBe('io.containerd.cgroups.v2.Metrics');
  });

  test('CreateTaskRequest with runc Options and an exec spec in JSON', () => {
    const req = create(CreateTaskRequestSchema, {
      id: 'c1',
      rootfs: [{ type: 'overlay', source: 'overlay', options: ['lowerdir=/a', 'upperdir=/b'] }],
      options: packAny(OptionsSchema, { binaryName: 'tsrunc', root: '/run/x', systemdCgroup: false }),
    });
    const back = fromBinary(CreateTaskRequestSchema, toBinary(CreateTaskRequestSchema, req));
    expect(back.rootfs[0].options).toEqual(['lowerdir=/a', 'upperdir=/b']);
    expect(unpackAny(back.options, OptionsSchema)?.binaryName).toBe('tsrunc');
    expect(unpackJsonAny(packJsonAny(PROCESS_SPEC_TYPE_URL, { args: ['sh'] }), PROCESS_SPEC_TYPE_URL)).toEqual({ args: ['sh'] });
  });
});

describe('encodeDeleteResponse (the delete command, without the reflection registry)', () => {
  test.each([
    { pid: 1234, exitStatus: 137, exitedAt: new Date(Date.UTC(2026, 11, 1, 0, 0, 0, 123)) },
    { pid: 0, exitStatus: 0, exitedAt: new Date(0) },
    { pid: 4294967295, exitStatus: 255, exitedAt: new Date(1) },
    { pid: 7, exitStatus: 0, exitedAt: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 500)) },
  ])('equals toBinary(DeleteResponseSchema) for %o', (r) => {
    const want = toBinary(DeleteResponseSchema, create(DeleteResponseSchema, { pid: r.pid, exitStatus: r.exitStatus, exitedAt: timestampFromDate(r.exitedAt) }));
    expect(hex(encodeDeleteResponse(r))).toBe(hex(want));
  });
});
