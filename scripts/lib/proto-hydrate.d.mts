// Types of proto-hydrate.mjs for the tests that import it.
import type { Plugin } from 'esbuild';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import type { DescTable } from '../../src/shim/proto/hydrate';

export function decodeFileDesc(b64: string): FileDescriptorProto;
export function fileDescJson(b64: string): Record<string, unknown>;
export function descTable(): DescTable;
export function hydrateSource(source: string): string | undefined;
export function protoHydratePlugin(hydrateModule: string): Plugin;
