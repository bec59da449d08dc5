// linux.cgroupsPath: wherever the config puts the container (absolute, relative to the runtime's own
// cgroup, containerd's /<namespace>/<id>, docker's cgroup-parent /<parent>/<id>), the init is really
// there: /proc/<pid>/cgroup and cgroup.procs say so, and delete removes the container's directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupOf, cgroupPathDir, cgroupProcs, childEnv, hostDir, makeBundle, runId, state, tsrunc, tsruncArgv, tsruncOk, uniqueId } from '../helpers';

// Every parent made here starts with this name (the leak check knows tsrunc* cgroups).
const top = `tsrunc-test-${runId()}-cgpath-${randomBytes(2).toString('hex')}`;

afterAll(() => {
  // Parents the runtime may leave (shared ones are not its to remove): deepest first, only when empty.
  const remove = (path: string) => {
    const dir = cgroupPathDir(path);
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(posix.join(path, e.name));
    rmdirSync(dir);
  };
  for (const p of [`/${top}`, `/${top}-own`, `/${top}-k8s.io`, `/${top}-ns2`]) remove(p);
});

const cases: Array<[string, (id: string) => string, (id: string) => string]> = [
  ['absolute', (id) => `/${top}/abs/${id}`, (id) => `/${top}/abs/${id}`],
  ['containerd\'s /<namespace>/<id>', (id) => `/${top}-k8s.io/${id}`, (id) => `/${top}-k8s.io/${id}`],
  ['docker\'s cgroup-parent /<parent>/<id>', (id) => `/${top}/docker-parent.slice/${id}`, (id) => `/${top}/docker-parent.slice/${id}`],
];

describe('linux.cgroupsPath', () => {
  it.each(cases)('%s: the init is in that cgroup, and delete removes it', async (_kind, configured, expected) => {
    const id = uniqueId('cgp');
    const bundle = makeBundle({ args: ['sleep', '1000'], mutate: (s) => void (s.linux!.cgroupsPath = configured(id)) });
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const where = expected(id);
    const dir = cgroupPathDir(where);
    try {
      const { pid } = await state(id);
      expect(cgroupOf(pid!)).toBe(where);
      expect(cgroupProcs(dir)).toEqual([pid]);
      expect(existsSync(cgroupPathDir(`/tsrunc/${id}`)), 'not at the default path too').toBe(false);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('relative: joined to the cgroup the runtime runs in (here one made for it, not the root)', async () => {
    // tsrunc moves itself nowhere: a shell puts itself into <top>-own (cgroup2 only) and execs tsrunc.
    const own = `/${top}-own`;
    mkdirSync(cgroupPathDir(own));
    const id = uniqueId('cgp');
    const bundle = makeBundle({ args: ['sleep', '1000'], mutate: (s) => void (s.linux!.cgroupsPath = `rel/${id}`) });
    const argv = [process.execPath, ...tsruncArgv(['create', '--bundle', bundle.dir, id])].map((a) => `'${a}'`).join(' ');
    // stdio to a file: the created init keeps tsrunc's stdio, a pipe would never reach EOF.
    const err = join(hostDir('cgpath'), 'stderr');
    const r = spawnSync('sh', ['-c', `echo $$ > ${cgroupPathDir(own)}/cgroup.procs && exec ${argv} >/dev/null 2>${err}`], { env: childEnv(), stdio: 'ignore', timeout: 30_000 });
    const where = `${own}/rel/${id}`;
    try {
      expect(r.status, readFileSync(err, 'utf8')).toBe(0);
      const { pid } = await state(id);
      expect(cgroupOf(pid!)).toBe(where);
      expect(cgroupProcs(cgroupPathDir(where))).toEqual([pid]);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
    expect(existsSync(cgroupPathDir(where))).toBe(false);
  });

  it('containerd\'s path: two containers under one namespace parent, each in its own cgroup', async () => {
    const ids = [uniqueId('cgp'), uniqueId('cgp')];
    const parent = `/${top}-ns2`;
    const bundles = ids.map((id) => makeBundle({ args: ['sleep', '1000'], mutate: (s) => void (s.linux!.cgroupsPath = `${parent}/${id}`) }));
    try {
      for (const [i, id] of ids.entries()) await tsruncOk(['create', '--bundle', bundles[i]!.dir, id]);
      for (const id of ids) {
        const { pid } = await state(id);
        expect(cgroupOf(pid!)).toBe(`${parent}/${id}`);
      }
      // Deleting one leaves the other (and the shared parent) in place.
      await tsruncOk(['delete', '--force', ids[0]!]);
      expect(existsSync(cgroupPathDir(`${parent}/${ids[0]}`))).toBe(false);
      expect(cgroupProcs(cgroupPathDir(`${parent}/${ids[1]}`))).toEqual([(await state(ids[1]!)).pid]);
    } finally {
      for (const id of ids) await tsrunc(['delete', '--force', id]);
      for (const b of bundles) b.remove();
    }
  });
});
