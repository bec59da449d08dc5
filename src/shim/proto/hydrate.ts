// The shim's file descriptors without booting descriptor.proto. Generated code hydrates each .proto file
// with `fileDesc(base64)`: decoding needs google.protobuf.FileDescriptorProto's own schema, which
// protobuf-es builds from descriptor.proto at load (~20 ms), and a reflective binary decode per file.
// The shim's bundles (scripts/lib/proto-hydrate.mjs) decode at build time instead and embed each file as
// JSON: only the fields that are set, keyed by their local names, which this module turns back into the
// message objects fromBinary makes (proto2 defaults on a prototype, own lists, `$typeName`), then
// registers like fileDesc does. test/unit/shim/proto-hydrate.test.ts checks it against fileDesc.
import { createFileRegistry, type DescFile } from '@bufbuild/protobuf';

/** One descriptor.proto message type, as the build describes it (from the library's own schema). */
export interface DescType {
  /** Scalar and enum defaults, the prototype of every message of the type; bigints as {"$b": "digits"}, bytes as {"$u": [...]}. */
  p: Record<string, unknown>;
  /** List fields: own empty arrays when absent. */
  l: string[];
  /** Message-typed fields (singular or list): the type of their elements. */
  c: Record<string, string>;
}
export type DescTable = Record<string, DescType>;

type Json = Record<string, unknown>;
const revive = (v: { $b?: string; $u?: number[] }): unknown => (v.$b !== undefined ? BigInt(v.$b) : new Uint8Array(v.$u ?? []));
type FileProto = Parameters<typeof createFileRegistry>[0] & { name: string; dependency: string[] };
const FILE = 'google.protobuf.FileDescriptorProto';

/** `fileDesc` for the JSON the build embeds, given the build's table of descriptor.proto types. */
export function fileDescHydrator(table: DescTable): (json: Json, imports?: DescFile[]) => DescFile {
  const protos = new Map<string, object>();
  for (const [name, t] of Object.entries(table)) {
    const p: Json = {};
    for (const [k, v] of Object.entries(t.p)) p[k] = v !== null && typeof v === 'object' ? revive(v as { $b?: string; $u?: number[] }) : v;
    protos.set(name, p);
  }
  const hydrate = (json: Json, typeName: string): Json => {
    const t = table[typeName];
    if (!t) throw new Error(`proto hydrate: unknown descriptor type ${typeName}`);
    const m = Object.create(protos.get(typeName)!) as Json;
    m.$typeName = typeName;
    for (const k of t.l) m[k] = [];
    for (const k in json) {
      const v = json[k];
      const child = t.c[k];
      if (child === undefined) m[k] = v;
      else m[k] = Array.isArray(v) ? v.map((e: Json) => hydrate(e, child)) : hydrate(v as Json, child);
    }
    return m;
  };
  return (json, imports) => {
    const root = hydrate(json, FILE) as unknown as FileProto;
    root.dependency = imports?.map((f) => f.proto.name) ?? [];
    const reg = createFileRegistry(root as never, (name) => imports?.find((f) => f.proto.name === name));
    return reg.getFile(root.name)!;
  };
}
