// google.protobuf.Any the way containerd 1.6 writes it. Its typeurl package names proto messages by
// their bare full name ("containerd.events.TaskExit", "io.containerd.cgroups.v2.Metrics") and resolves
// type URLs by exact match, so the "type.googleapis.com/" prefix that protobuf-es adds would not be
// understood: always pack with packAny. Non-proto types (OCI spec structs) are JSON under
// "types.containerd.io/opencontainers/runtime-spec/1/<Type>".
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';

export const SPEC_TYPE_URL_PREFIX = 'types.containerd.io/opencontainers/runtime-spec/1/';
export const PROCESS_SPEC_TYPE_URL = `${SPEC_TYPE_URL_PREFIX}Process`;
export const LINUX_RESOURCES_TYPE_URL = `${SPEC_TYPE_URL_PREFIX}LinuxResources`;

export function packAny<D extends DescMessage>(schema: D, message: MessageInitShape<D>): Any {
  return create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, message)) });
}

function typeName(url: string): string {
  const slash = url.lastIndexOf('/');
  return slash < 0 ? url : url.slice(slash + 1);
}

/** The message in `any` if it is of `schema`'s type (bare or prefixed URL), else undefined. */
export function unpackAny<D extends DescMessage>(any: Any | undefined, schema: D): MessageShape<D> | undefined {
  if (!any || typeName(any.typeUrl) !== schema.typeName) return undefined;
  return fromBinary(schema, any.value);
}

/** The JSON value of a typeurl-JSON Any (exec's process spec, Update's LinuxResources). */
export function unpackJsonAny(any: Any | undefined, typeUrl: string): unknown {
  if (!any || any.typeUrl !== typeUrl) return undefined;
  return JSON.parse(Buffer.from(any.value).toString('utf8'));
}

export function packJsonAny(typeUrl: string, value: unknown): Any {
  return create(AnySchema, { typeUrl, value: Buffer.from(JSON.stringify(value)) });
}

/** The bytes of an Any as the `publish` binary reads them from stdin. */
export function encodeAny(any: Any): Uint8Array {
  return toBinary(AnySchema, any);
}
