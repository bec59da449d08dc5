// DeleteResponse for the `delete` command without the reflection registry. containerd runs `SHIM delete`
// after every task delete, so it is on the hot path, and the first use of any generated schema boots
// protobuf-es's descriptor registry (measured here: ~4x the CPU of loading this file, see
// src/shim/README.md). This uses the same library's wire writer with the field numbers of
// containerd.task.v2.DeleteResponse; a unit test checks the bytes equal toBinary(DeleteResponseSchema).
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export interface DeleteResult {
  pid: number;
  exitStatus: number;
  exitedAt: Date;
}

export function encodeDeleteResponse(r: DeleteResult): Uint8Array {
  const w = new BinaryWriter();
  if (r.pid !== 0) w.tag(1, WireType.Varint).uint32(r.pid);
  if (r.exitStatus !== 0) w.tag(2, WireType.Varint).uint32(r.exitStatus);
  // google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }, always present (gogo non-nullable).
  const ms = r.exitedAt.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  w.tag(3, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
  return w.finish();
}
