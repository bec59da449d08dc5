// The CLI's compiled-filter cache (dist/seccomp-cache, src/runtime/seccomp/cache.ts), as the container
// feels it: a second container of a profile runs the filter the cache holds for that profile, and only
// for exactly that profile.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSeccomp, type SeccompConfig } from '../../src/runtime/seccomp';
import { entryPath, readEntry, writeEntry } from '../../src/runtime/seccomp/cache';
import { REPO } from '../helpers/base';
import { runContainer, type Spec } from '../helpers';

const CACHE = join(REPO, 'dist', 'seccomp-cache');

// A profile no other test uses (its key is its whole text): mkdir fails with `errno`.
const profile = (errno: number): SeccompConfig => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: errno },
    { names: ['acct'], action: 'SCMP_ACT_ERRNO', errnoRet: 1000 + (process.pid % 30000) },
  ],
});
const keyOf = (p: SeccompConfig) => `${process.arch}\n${JSON.stringify(p)}`;
const mkdirIn = (p: SeccompConfig) =>
  runContainer(
    (spec: Spec) => {
      spec.root!.readonly = false;
      spec.linux!.seccomp = p as NonNullable<Spec['linux']>['seccomp'];
    },
    ['sh', '-c', 'mkdir /tmp/a; echo rc=$?'],
  );

const ENOSPC = 28;
const EACCES = 13;
const mine = profile(ENOSPC);
afterAll(() => rmSync(entryPath(CACHE, keyOf(mine)), { force: true }));

describe('seccomp cache (CLI)', () => {
  it("a container's profile is compiled once, then its filter comes from dist/seccomp-cache", async () => {
    rmSync(entryPath(CACHE, keyOf(mine)), { force: true });
    const first = await mkdirIn(mine);
    expect(first.stdout).toContain('rc=1');
    expect(first.stderr).toMatch(/No space left on device/);
    expect(readEntry(CACHE, keyOf(mine))).toEqual(compileSeccomp(mine));

    // The entry now holds another filter (mkdir: EACCES): the next container of the profile runs it.
    writeEntry(CACHE, keyOf(mine), compileSeccomp(profile(EACCES)));
    const second = await mkdirIn(mine);
    expect(second.stderr).toMatch(/Permission denied/);
  });

  it('an entry found under the profile\'s name but made for another profile is not used', async () => {
    const other = profile(EACCES);
    writeEntry(CACHE, keyOf(other), compileSeccomp(other));
    writeFileSync(entryPath(CACHE, keyOf(mine)), readFileSync(entryPath(CACHE, keyOf(other))));
    rmSync(entryPath(CACHE, keyOf(other)));
    const r = await mkdirIn(mine);
    expect(r.stderr).toMatch(/No space left on device/);
    // and it was written anew, for this profile
    expect(readEntry(CACHE, keyOf(mine))).toEqual(compileSeccomp(mine));
  });
});
