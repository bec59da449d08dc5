// The compiled-filter cache (src/runtime/seccomp/cache.ts): what a file must hold to be used, and when
// nothing is written. The CLI's use of it, as a container feels it: test/integration/seccomp-cache.test.ts.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileSeccomp, compileSeccompCached, type SeccompConfig } from '../../../src/runtime/seccomp';
import { entryPath, readEntry, writeEntry } from '../../../src/runtime/seccomp/cache';

let dist: string;
let dir: string;
beforeEach(() => {
  dist = mkdtempSync(join(tmpdir(), 'tsrunc-seccomp-cache-'));
  chmodSync(dist, 0o755);
  dir = join(dist, 'seccomp-cache');
});
afterEach(() => rmSync(dist, { recursive: true, force: true }));

// Every test its own profiles: the process's own map must not answer for the files.
let serial = 0;
const profile = (errno = 1): SeccompConfig => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: errno }],
  listenerMetadata: `test ${process.pid} ${serial++}`,
});
const keyOf = (p: SeccompConfig) => `${process.arch}\n${JSON.stringify(p)}`;

describe('seccomp cache', () => {
  it('a miss compiles and writes an entry; the entry reads back as what was compiled', () => {
    const p = profile();
    const compiled = compileSeccompCached(p, 'linux.seccomp', dir);
    expect(compiled).toEqual(compileSeccomp(p));
    expect(readdirSync(dir)).toEqual([entryPath(dir, keyOf(p)).split('/').pop()]);
    expect(readEntry(dir, keyOf(p))).toEqual(compiled);
  });

  it('an entry is used as found: the file, not a new compile, decides', () => {
    const p = profile();
    const other = compileSeccomp(profile(28));
    writeEntry(dir, keyOf(p), other);
    expect(compileSeccompCached(p, 'linux.seccomp', dir).filter).toEqual(other.filter);
  });

  it('a file under the same name that holds another key is a miss', () => {
    const p = profile();
    const q = profile(28);
    writeEntry(dir, keyOf(q), compileSeccomp(q));
    // q's entry where p's would be: the hash finds it, the key refuses it
    writeFileSync(entryPath(dir, keyOf(p)), readFileSync(entryPath(dir, keyOf(q))));
    expect(readEntry(dir, keyOf(p))).toBeUndefined();
    expect(compileSeccompCached(p, 'linux.seccomp', dir)).toEqual(compileSeccomp(p));
  });

  it('a truncated or foreign file is a miss, and is written anew', () => {
    const p = profile();
    const file = entryPath(dir, keyOf(p));
    const compiled = compileSeccomp(p);
    for (const spoil of [(f: string) => truncateSync(f, 100), (f: string) => truncateSync(f, 0), (f: string) => writeFileSync(f, 'tsrunc-seccomp-1 0 0 9999999\n')]) {
      writeEntry(dir, keyOf(p), compiled);
      spoil(file);
      expect(readEntry(dir, keyOf(p))).toBeUndefined();
    }
    writeEntry(dir, keyOf(p), compiled);
    truncateSync(file, statSync(file).size - 3); // not whole instructions
    expect(readEntry(dir, keyOf(p))).toBeUndefined();
    expect(compileSeccompCached(p, 'linux.seccomp', dir)).toEqual(compiled);
    expect(readEntry(dir, keyOf(p))).toEqual(compiled);
  });

  it('nothing is written into a dist/ that others may write to', () => {
    chmodSync(dist, 0o775);
    const p = profile();
    compileSeccompCached(p, 'linux.seccomp', dir);
    expect(readdirSync(dist)).toEqual([]);
  });

  it('a read-only dist/ is no error', () => {
    mkdirSync(dir);
    chmodSync(dir, 0o555); // root writes anyway: a file in its way stands for a read-only mount
    const p = profile();
    mkdirSync(entryPath(dir, keyOf(p)) + `.${process.pid}`);
    expect(compileSeccompCached(p, 'linux.seccomp', dir)).toEqual(compileSeccomp(p));
    expect(readEntry(dir, keyOf(p))).toBeUndefined();
  });

  it('bad profiles are not cached: the error comes every time', () => {
    const bad = { ...profile(), defaultAction: 'SCMP_ACT_NOPE' };
    for (let i = 0; i < 2; i++) expect(() => compileSeccompCached(bad, 'linux.seccomp', dir)).toThrow(/linux\.seccomp\.defaultAction: unknown action/);
    expect(readdirSync(dist)).toEqual([]);
  });

  it('a profile with a bigint (the library API allows one) compiles, uncached', () => {
    const p: SeccompConfig = { ...profile(), syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 2n }] }] };
    expect(compileSeccompCached(p, 'linux.seccomp', dir)).toEqual(compileSeccomp(p));
    expect(readdirSync(dist)).toEqual([]);
  });

  it('the directory is bounded: past 64 files it is emptied before the next entry', () => {
    mkdirSync(dir);
    for (let i = 0; i < 64; i++) writeFileSync(join(dir, `old${i}`), '');
    const p = profile();
    compileSeccompCached(p, 'linux.seccomp', dir);
    expect(readdirSync(dir)).toEqual([entryPath(dir, keyOf(p)).split('/').pop()]);
  });
});
