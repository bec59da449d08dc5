// The shim's bundles embed each generated file descriptor as JSON decoded at build time
// (scripts/lib/proto-hydrate.mjs, src/shim/proto/hydrate.ts) instead of protobuf-es's fileDesc(base64),
// which boots descriptor.proto when the server loads. The hydrated descriptors must be the ones fileDesc
// makes: the FileDescriptorProto field by field (defaults and presence too), and the registry built from it.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { create, isFieldSet, toBinary, type DescFile, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import * as wkt from '@bufbuild/protobuf/wkt';
import { describe, expect, test } from 'vitest';
import { fileDescHydrator } from '../../../src/shim/proto/hydrate';
import * as proto from '../../../src/shim/proto';
import * as metrics from '../../../src/shim/proto/gen/io/containerd/cgroups/v2/metrics_pb';
import { descTable, fileDescJson, protoHydratePlugin } from '../../../scripts/lib/proto-hydrate.mjs';

const root = join(__dirname, '../../..');
const GEN = join(root, 'src/shim/proto/gen');
const WKT = join(root, 'node_modules/@bufbuild/protobuf/dist/esm/wkt/gen/google/protobuf');
const B64 = /\bfileDesc\("([A-Za-z0-9+/_-]+=*)"/;

function genFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? genFiles(join(dir, e.name)) : e.name.endsWith('_pb.ts') ? [join(dir, e.name)] : []));
}

/** Every field of a descriptor message, read through its prototype (defaults) and with its presence. */
function expectSameProto(got: Record<string, unknown>, want: Record<string, unknown>, desc: DescMessage, at: string): void {
  expect(got.$typeName, at).toBe(want.$typeName);
  for (const f of desc.fields) {
    const where = `${at}.${f.name}`;
    expect(isFieldSet(got as never, f), where).toBe(isFieldSet(want as never, f));
    const g = got[f.localName];
    const w = want[f.localName];
    if (f.fieldKind === 'message') {
      if (w === undefined || g === undefined) expect(g, where).toBe(w);
      else expectSameProto(g as never, w as never, f.message, where);
    } else if (f.fieldKind === 'list' && f.listKind === 'message') {
      expect((g as unknown[]).length, where).toBe((w as unknown[]).length);
      (w as Record<string, unknown>[]).forEach((e, i) => expectSameProto((g as never[])[i]!, e, f.message, `${where}[${i}]`));
    } else expect(g, where).toEqual(w);
  }
}

/** What the registry made of a file: every type, field, enum value and method as the runtime uses them. */
function signature(file: DescFile): unknown {
  const msg = (m: DescMessage): unknown => ({
    t: m.typeName,
    f: m.fields.map((field) => {
      const f = field as typeof field & Record<'listKind' | 'mapKind' | 'mapKey' | 'packed' | 'delimitedEncoding' | 'longAsString', unknown> & { getDefaultValue?: () => unknown };
      return [f.name, f.number, f.localName, f.jsonName, f.fieldKind, f.scalar, f.listKind, f.mapKind, f.mapKey, f.message?.typeName, f.enum?.typeName, f.oneof?.name, f.presence, f.packed, f.delimitedEncoding, f.longAsString, f.getDefaultValue?.()];
    }),
    o: m.oneofs.map((o) => o.name),
    e: m.nestedEnums.map((e) => [e.typeName, e.open, e.values.map((v) => [v.name, v.number, v.localName])]),
    n: m.nestedMessages.map(msg),
  });
  return {
    name: file.name,
    edition: file.edition,
    deps: file.dependencies.map((d) => d.name),
    m: file.messages.map(msg),
    e: file.enums.map((e) => [e.typeName, e.open, e.values.map((v) => [v.name, v.number, v.localName])]),
    s: file.services.map((s) => [s.typeName, s.methods.map((x) => [x.name, x.localName, x.methodKind, x.input.typeName, x.output.typeName, x.idempotency])]),
    x: file.extensions.map((x) => x.typeName),
  };
}

/** The files the shim bundles: ours (gen/) and the well-known types they import, with fileDesc's result. */
async function cases(): Promise<{ source: string; file: DescFile }[]> {
  const out: { source: string; file: DescFile }[] = [];
  for (const path of genFiles(GEN)) {
    const name = readFileSync(path, 'utf8').match(/@generated from file (\S+)/)![1]!;
    const mod = (await import(path)) as Record<string, unknown>;
    const file = Object.values(mod).find((v): v is DescFile => (v as DescFile)?.kind === 'file' && (v as DescFile).proto.name === name);
    if (!file) throw new Error(`no loaded descriptor for ${name}`);
    out.push({ source: path, file });
  }
  for (const name of ['any', 'timestamp', 'empty', 'duration', 'struct', 'wrappers']) {
    const file = (wkt as Record<string, unknown>)[`file_google_protobuf_${name}`] as DescFile;
    out.push({ source: join(WKT, `${name}_pb.js`), file });
  }
  return out;
}

describe('embedded file descriptors (shim bundles)', () => {
  const hydrate = fileDescHydrator(descTable());

  test('every generated file hydrates to what fileDesc makes', async () => {
    const all = await cases();
    expect(all.length).toBeGreaterThanOrEqual(15);
    for (const { source, file } of all) {
      const b64 = B64.exec(readFileSync(source, 'utf8'))![1]!;
      const got = hydrate(fileDescJson(b64), file.dependencies);
      expectSameProto(got.proto as never, file.proto as never, FileDescriptorProtoSchema, file.proto.name);
      expect(signature(got), file.proto.name).toEqual(signature(file));
      // And the descriptor message itself serialises to the same bytes.
      expect(toBinary(FileDescriptorProtoSchema, got.proto)).toEqual(toBinary(FileDescriptorProtoSchema, file.proto));
    }
  });

  test('a bundle built with the plugin boots no descriptor.proto and encodes like the sources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-proto-hydrate-'));
    try {
      const out = join(dir, 'proto.cjs');
      await build({
        stdin: {
          contents: "export * from './src/shim/proto'; export { MetricsSchema } from './src/shim/proto/gen/io/containerd/cgroups/v2/metrics_pb';",
          resolveDir: root,
          loader: 'ts',
        },
        outfile: out,
        bundle: true,
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        logLevel: 'silent',
        plugins: [protoHydratePlugin(join(root, 'src/shim/proto/hydrate.ts'))],
      });
      const text = readFileSync(out, 'utf8');
      expect(text).not.toContain('google/protobuf/descriptor.proto');
      expect(text).not.toMatch(/\bfileDesc\(/);
      writeFileSync(join(dir, 'package.json'), '{}');
      const b = createRequire(out)(out) as typeof proto & { MetricsSchema: typeof metrics.MetricsSchema };
      const at = new Date('2026-01-02T03:04:05.678Z');
      const createReq = {
        id: 'c1',
        bundle: '/run/b',
        rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/a', 'upperdir=/b'] }],
        terminal: true,
        stdout: '/fifo/out',
        options: { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([8, 1]) },
      };
      const enc = (p: typeof proto) => toBinary(p.CreateTaskRequestSchema, create(p.CreateTaskRequestSchema, createReq));
      expect(enc(b)).toEqual(enc(proto));
      const state = (p: typeof proto) => toBinary(p.StateResponseSchema, create(p.StateResponseSchema, { id: 'c1', pid: 42, status: p.Status.STOPPED, exitStatus: 137, exitedAt: p.timestampFromDate(at) }));
      expect(state(b)).toEqual(state(proto));
      expect(b.fromBinary(b.StateResponseSchema, state(proto))).toMatchObject({ id: 'c1', pid: 42, status: proto.Status.STOPPED, exitStatus: 137 });
      const exit = (p: typeof proto) => toBinary(p.TaskExitSchema, create(p.TaskExitSchema, { containerId: 'c1', id: 'c1', pid: 42, exitStatus: 1, exitedAt: p.timestampFromDate(at) }));
      expect(exit(b)).toEqual(exit(proto));
      const m = { pids: { current: 3n, limit: 10n }, memory: { usage: 1n << 40n, file: 7n }, cpu: { usageUsec: 99n } };
      expect(toBinary(b.MetricsSchema, create(b.MetricsSchema, m))).toEqual(toBinary(metrics.MetricsSchema, create(metrics.MetricsSchema, m)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
