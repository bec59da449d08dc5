// Build-time half of src/shim/proto/hydrate.ts: an esbuild plugin for the shim's bundles that replaces
// each generated `fileDesc("<base64 FileDescriptorProto>", deps)` (our gen/ files and the library's
// well-known types) with the same descriptor decoded now, as JSON for the runtime hydrator. With no
// fileDesc left, the bundle no longer boots descriptor.proto when it loads.
import { create, fromBinary, isFieldSet, ScalarType } from '@bufbuild/protobuf';
import { protoCamelCase } from '@bufbuild/protobuf/reflect';
import { base64Decode } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { readFileSync } from 'node:fs';

const FILE_DESC = /\bfileDesc\("([A-Za-z0-9+/_-]+=*)"/g;
const MODULE = 'tsrunc:proto-hydrate';

/** The set fields of a descriptor message, by local name (what fromBinary made own properties). */
function toJson(msg, desc) {
  const out = {};
  for (const f of desc.fields) {
    if (!isFieldSet(msg, f)) continue;
    const v = msg[f.localName];
    if (f.fieldKind === 'message') out[f.localName] = toJson(v, f.message);
    else if (f.fieldKind === 'list' && f.listKind === 'message') out[f.localName] = v.map((e) => toJson(e, f.message));
    else if (f.fieldKind === 'map') throw new Error(`proto-hydrate: map field ${desc.typeName}.${f.name} is not supported`);
    else {
      const scalar = f.fieldKind === 'list' ? f.scalar : f.fieldKind === 'scalar' ? f.scalar : undefined;
      if (scalar === ScalarType.BYTES || typeof v === 'bigint' || (Array.isArray(v) && v.some((e) => typeof e === 'bigint')))
        throw new Error(`proto-hydrate: ${desc.typeName}.${f.name} (bytes or 64-bit) is not supported in embedded descriptors`);
      out[f.localName] = v;
    }
  }
  return out;
}

/** fileDesc's restoreJsonNames (not exported): the generator leaves out JSON names it can derive. */
function restoreJsonNames(message) {
  for (const f of message.field) {
    if (!Object.prototype.hasOwnProperty.call(f, 'jsonName') || f.jsonName === undefined) f.jsonName = protoCamelCase(f.name);
  }
  message.nestedType.forEach(restoreJsonNames);
}

/** FileDescriptorProto of a generated file's base64, as fileDesc sees it (JSON names restored). */
export function decodeFileDesc(b64) {
  const root = fromBinary(FileDescriptorProtoSchema, base64Decode(b64));
  root.messageType.forEach(restoreJsonNames);
  return root;
}

export function fileDescJson(b64) {
  return toJson(decodeFileDesc(b64), FileDescriptorProtoSchema);
}

/** Every descriptor.proto message type reachable from FileDescriptorProto: defaults, lists, children. */
export function descTable() {
  const table = {};
  const visit = (desc) => {
    if (table[desc.typeName]) return;
    const zero = create(desc);
    const p = {};
    for (const [k, v] of Object.entries(Object.getPrototypeOf(zero))) p[k] = typeof v === 'bigint' ? { $b: String(v) } : v instanceof Uint8Array ? { $u: [...v] } : v;
    const t = (table[desc.typeName] = { p, l: [], c: {} });
    for (const f of desc.fields) {
      if (f.fieldKind === 'list') t.l.push(f.localName);
      if (f.fieldKind === 'map') throw new Error(`proto-hydrate: map field ${desc.typeName}.${f.name} is not supported`);
      const child = f.fieldKind === 'message' ? f.message : f.fieldKind === 'list' && f.listKind === 'message' ? f.message : undefined;
      if (child) {
        t.c[f.localName] = child.typeName;
        visit(child);
      }
    }
  };
  visit(FileDescriptorProtoSchema);
  return table;
}

/** The source with every fileDesc("...") call replaced (or undefined when it has none). */
export function hydrateSource(source) {
  if (!FILE_DESC.test(source)) return undefined;
  FILE_DESC.lastIndex = 0;
  const body = source.replace(FILE_DESC, (_, b64) => `__tsruncFileDesc(JSON.parse(${JSON.stringify(JSON.stringify(fileDescJson(b64)))})`);
  return `import { hydrateFileDesc as __tsruncFileDesc } from ${JSON.stringify(MODULE)};\n${body}`;
}

/** esbuild plugin: generated _pb files (ours and the library's well-known types) without fileDesc. */
export function protoHydratePlugin(hydrateModule) {
  return {
    name: 'proto-hydrate',
    setup(b) {
      b.onResolve({ filter: /^tsrunc:proto-hydrate$/ }, () => ({ path: MODULE, namespace: 'proto-hydrate' }));
      b.onLoad({ filter: /.*/, namespace: 'proto-hydrate' }, () => ({
        contents:
          `import { fileDescHydrator } from ${JSON.stringify(hydrateModule)};\n` +
          `export const hydrateFileDesc = /*@__PURE__*/ fileDescHydrator(JSON.parse(${JSON.stringify(JSON.stringify(descTable()))}));\n`,
        loader: 'js',
        resolveDir: '/',
      }));
      b.onLoad({ filter: /_pb\.(ts|js)$/ }, (args) => {
        const contents = hydrateSource(readFileSync(args.path, 'utf8'));
        return contents === undefined ? undefined : { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
}
