// Compiled filters by profile: an engine's default profile (~400 syscalls, Docker's and Podman's alike)
// took a cold CLI 20-26 ms of CPU to compile on every create and exec; the same profile now compiles
// once per build of tsrunc. Two layers: the process's own map (the shim creates many containers) and,
// when running from the package's bundles, one file per profile in dist/seccomp-cache/ (the build
// replaces dist/, so an entry never outlives the compiler that made it, as with the code caches).
//
// The key is the profile's JSON text (profiles come from config.json, so the text is all there is to
// them) and the native arch. A file holds its whole key and is used only when the key is equal; the
// name (a hash) only finds it. Only successful compiles are stored: a bad profile fails every time.
import fs from 'node:fs';
import path from 'node:path';
import { native, packageRoot } from '../native';
import { compileSeccomp } from './compile';
import { markSeccompCompiled } from './compiled-here';
import type { CompiledSeccomp, SeccompConfig } from './types';

const IN_PROCESS_MAX = 16;
/** Past this many files the directory is emptied before the next is written: a bound, not an LRU. */
const FILES_MAX = 64;
const MAGIC = 'tsrunc-seccomp-1';

const inProcess = new Map<string, CompiledSeccomp>();

/** compileSeccomp, from the cache when this profile compiled before. */
export function compileSeccompCached(seccomp: SeccompConfig, where: string, dir = bundledCacheDir()): CompiledSeccomp {
  const key = profileKey(seccomp);
  if (key === undefined) return compileSeccomp(seccomp, where);
  let compiled = inProcess.get(key) ?? (dir === undefined ? undefined : readEntry(dir, key));
  if (!compiled) {
    compiled = compileSeccomp(seccomp, where);
    markSeccompCompiled();
    if (dir !== undefined) writeEntry(dir, key, compiled);
  }
  if (inProcess.size >= IN_PROCESS_MAX && !inProcess.has(key)) inProcess.delete(inProcess.keys().next().value!);
  inProcess.set(key, compiled);
  return compiled;
}

/** dist/seccomp-cache of the package this code was bundled into; none when it runs from sources (tests). */
function bundledCacheDir(): string | undefined {
  return typeof TSRUNC_PACKAGE_UP === 'string' ? path.join(packageRoot(), 'dist', 'seccomp-cache') : undefined;
}
declare const TSRUNC_PACKAGE_UP: string | undefined;

function profileKey(seccomp: SeccompConfig): string | undefined {
  try {
    const text = JSON.stringify(seccomp);
    return typeof text === 'string' ? `${process.arch}\n${text}` : undefined;
  } catch {
    return undefined; // a bigint (the library's callers may pass one): not cached
  }
}

/**
 * An entry: `MAGIC flags usesNotify keyBytes\n`, the key's UTF-8, then the filter (struct sock_filter[]).
 * Anything else (truncated, another key under the same hash) is a miss.
 */
export function entryPath(dir: string, key: string): string {
  return path.join(dir, native().textHash(key));
}

export function readEntry(dir: string, key: string): CompiledSeccomp | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(entryPath(dir, key));
  } catch {
    return undefined;
  }
  const nl = data.indexOf(10);
  const [magic, flags, usesNotify, keyBytes] = data.toString('latin1', 0, Math.max(nl, 0)).split(' ');
  const keyEnd = nl + 1 + Number(keyBytes);
  if (nl < 0 || magic !== MAGIC || !(keyEnd < data.length) || (data.length - keyEnd) % 8 !== 0) return undefined;
  if (!data.subarray(nl + 1, keyEnd).equals(Buffer.from(key))) return undefined;
  const filter = data.subarray(keyEnd);
  return { filter, flags: Number(flags), instructions: filter.length / 8, usesNotify: usesNotify === '1' };
}

/** Best effort: only into a dist/ that is ours and writable by us alone (as the warm code cache). */
export function writeEntry(dir: string, key: string, compiled: CompiledSeccomp): void {
  const file = entryPath(dir, key);
  const tmp = `${file}.${process.pid}`;
  try {
    const parent = fs.statSync(path.dirname(dir));
    if (parent.uid !== process.geteuid?.() || parent.mode & 0o022) return;
    fs.mkdirSync(dir, { mode: 0o755, recursive: true });
    const names = fs.readdirSync(dir);
    if (names.length >= FILES_MAX) for (const n of names) fs.rmSync(path.join(dir, n), { force: true });
    const keyBytes = Buffer.from(key);
    const head = `${MAGIC} ${compiled.flags} ${compiled.usesNotify ? 1 : 0} ${keyBytes.length}\n`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(head, 'latin1'), keyBytes, compiled.filter]), { mode: 0o644, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never made (a read-only dist/)
    }
  }
}
