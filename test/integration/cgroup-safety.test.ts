// cgroup safety between containers and the host's processes:
// - a container never goes into a cgroup that already has processes, is frozen, or is another container's
//   (runc >= 1.2 refuses a non-empty cgroup too): otherwise the delete of one would kill the other;
// - `kill --all` of a container sharing the host's pid namespace, in a cgroup tsrunc did not make, reaches
//   only the container's processes;
// - the default parent cgroup (/tsrunc) is removed by whichever container leaves it empty, and a create
//   racing with that removal still succeeds.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, cgroupOf, cgroupPathDir, cgroupProcs, makeBundle, runId, state, testRoot, tsrunc, tsruncOk, uniqueId, waitFor, waitForStatus, type Spec } from '../helpers';

const top = `/tsrunc-test-${runId()}-cgsafe-${randomBytes(2).toString('hex')}`;
const hostProcs: ChildProcess[] = [];

afterAll(() => {
  for (const p of hostProcs) p.kill('SIGKILL');
  const remove = (path: string) => {
    const dir = cgroupPathDir(path);
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(join(path, e.name));
    rmdirSync(dir);
  };
  remove(top);
});

const withCgroup = (path: string) => (s: Spec) => void (s.linux!.cgroupsPath = path);

/** A host process (not a container's) in cgroup `path`, made here as a pre-existing cgroup. */
function hostProcessIn(path: string): ChildProcess {
  mkdirSync(cgroupPathDir(path), { recursive: true });
  const p = spawn('sleep', ['1000'], { stdio: 'ignore' });
  hostProcs.push(p);
  writeFileSync(join(cgroupPathDir(path), 'cgroup.procs'), String(p.pid));
  expect(cgroupOf(p.pid!)).toBe(path);
  return p;
}

async function stopHost(p: ChildProcess): Promise<void> {
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

/** A second create into `path` fails with one line naming linux.cgroupsPath, leaving nothing. */
async function expectRefused(path: string, reason: RegExp): Promise<void> {
  const id = uniqueId('cgs-b');
  const bundle = makeBundle({ args: ['sleep', '1000'], mutate: withCgroup(path) });
  try {
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code, r.stderr).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain('linux.cgroupsPath');
    expect(lines[0]).toContain(path);
    expect(lines[0]).toMatch(reason);
    expect(existsSync(join(testRoot(), id)), 'state dir of the refused create').toBe(false);
  } finally {
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
  }
}

describe('a container cgroup is never shared', () => {
  it('a second container given the same cgroupsPath is refused; the first is untouched', async () => {
    const path = `${top}/shared-${randomBytes(2).toString('hex')}`;
    const a = uniqueId('cgs-a');
    const bundle = makeBundle({ args: ['sleep', '1000'], mutate: withCgroup(path) });
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, a]);
      const { pid } = await state(a);
      await expectRefused(path, /processes/);
      expect(cgroupProcs(cgroupPathDir(path))).toEqual([pid]);
      expect((await state(a)).status).toBe('created');
      await tsruncOk(['start', a]);
      expect((await state(a)).status).toBe('running');
    } finally {
      await tsrunc(['delete', '--force', a]);
      bundle.remove();
    }
    expect(existsSync(cgroupPathDir(path))).toBe(false);
  });

  it('also while the first is stopped (its cgroup empty, but its delete would remove it)', async () => {
    const path = `${top}/stopped-${randomBytes(2).toString('hex')}`;
    const a = uniqueId('cgs-a');
    const bundle = makeBundle({ args: ['true'], mutate: withCgroup(path) });
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, a]);
      await tsruncOk(['start', a]);
      await waitForStatus(a, 'stopped');
      expect(cgroupProcs(cgroupPathDir(path))).toEqual([]);
      await expectRefused(path, new RegExp(`container ${a}`));
    } finally {
      await tsrunc(['delete', '--force', a]);
      bundle.remove();
    }
    expect(existsSync(cgroupPathDir(path))).toBe(false);
  });

  it('two creates at once into one cgroup: never both', async () => {
    const path = `${top}/race-${randomBytes(2).toString('hex')}`;
    const ids = [uniqueId('cgs-r'), uniqueId('cgs-r')];
    const bundles = ids.map(() => makeBundle({ args: ['sleep', '1000'], mutate: withCgroup(path) }));
    try {
      const rs = await Promise.all(ids.map((id, i) => tsrunc(['create', '--bundle', bundles[i]!.dir, id])));
      expect(rs.filter((r) => r.code === 0).length, rs.map((r) => r.stderr).join('\n')).toBeLessThanOrEqual(1);
      for (const r of rs) if (r.code !== 0) expect(r.stderr).toContain('linux.cgroupsPath');
      for (const [i, r] of rs.entries()) if (r.code === 0) expect(cgroupProcs(cgroupPathDir(path))).toEqual([(await state(ids[i]!)).pid]);
    } finally {
      for (const id of ids) await tsrunc(['delete', '--force', id]);
      for (const b of bundles) b.remove();
    }
  });

  it('a pre-existing cgroup with a host process in it is refused, and left as it was', async () => {
    const path = `${top}/host-${randomBytes(2).toString('hex')}`;
    const host = hostProcessIn(path);
    await expectRefused(path, /processes/);
    expect(alive(host.pid!)).toBe(true);
    expect(cgroupProcs(cgroupPathDir(path))).toEqual([host.pid]);
    await stopHost(host);
  });

  it('a frozen pre-existing cgroup is refused', async () => {
    const path = `${top}/frozen-${randomBytes(2).toString('hex')}`;
    mkdirSync(cgroupPathDir(path), { recursive: true });
    writeFileSync(join(cgroupPathDir(path), 'cgroup.freeze'), '1');
    await expectRefused(path, /frozen/);
    expect(existsSync(cgroupPathDir(path))).toBe(true);
  });
});

describe('kill --all in a cgroup tsrunc did not make', () => {
  it('signals the container\'s processes only, not the host\'s in the same cgroup', async () => {
    const path = `${top}/kill-all-${randomBytes(2).toString('hex')}`;
    mkdirSync(cgroupPathDir(path), { recursive: true });
    const id = uniqueId('cgs-k');
    // The host's pid namespace (no pid entry); its own mount namespace. A child besides the init.
    const bundle = makeBundle({
      args: ['sh', '-c', 'sleep 1001 & exec sleep 1002'],
      mutate: (s) => {
        s.linux!.cgroupsPath = path;
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      },
    });
    let host: ChildProcess | undefined;
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      await tsruncOk(['start', id]);
      const { pid } = await state(id);
      // Its processes first (an empty cgroup at create), then a host process joins the cgroup.
      const mine = await waitFor('the container\'s two processes', () => { const p = cgroupProcs(cgroupPathDir(path)); return p.length === 2 && p; });
      expect(mine).toContain(pid);
      host = hostProcessIn(path);
      await tsruncOk(['kill', '--all', id, 'KILL']);
      await waitForStatus(id, 'stopped');
      await waitFor('the container\'s processes gone', () => mine.every((p) => !alive(p)));
      expect(alive(host.pid!), 'the host process in the same cgroup').toBe(true);
      expect(cgroupProcs(cgroupPathDir(path))).toEqual([host.pid]);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
      if (host) await stopHost(host);
    }
  });
});

describe('the default parent cgroup (/tsrunc)', () => {
  const parent = cgroupPathDir('/tsrunc');
  // Other test runs may use /tsrunc at the same time: it must be gone or hold someone's cgroup, never be
  // left empty (a create of theirs may have made it a moment ago: give it a second to fill).
  const expectNotLeftEmpty = () =>
    waitFor('/tsrunc gone or in use', () => !existsSync(parent) || readdirSync(parent, { withFileTypes: true }).some((e) => e.isDirectory()), 2_000);

  it.each([['the creator first', [0, 1]], ['the creator last', [1, 0]]])('two containers, %s deleted: no empty parent is left', async (_o, order) => {
    const ids = [uniqueId('cgs-d'), uniqueId('cgs-d')];
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    try {
      for (const id of ids) await tsruncOk(['create', '--bundle', bundle.dir, id]);
      for (const id of ids) expect(cgroupOf((await state(id)).pid!)).toBe(`/tsrunc/${id}`);
      for (const i of order) await tsruncOk(['delete', '--force', ids[i]!]);
      for (const id of ids) expect(existsSync(join(parent, id))).toBe(false);
      await expectNotLeftEmpty();
    } finally {
      for (const id of ids) await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('create and delete racing in parallel: every create succeeds, nothing is left', async () => {
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    const failures: string[] = [];
    const worker = async (w: number) => {
      for (let i = 0; i < 8; i++) {
        const id = uniqueId(`cgs-w${w}`);
        const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
        if (r.code !== 0) failures.push(r.stderr.trim());
        const d = await tsrunc(['delete', '--force', id]);
        if (d.code !== 0) failures.push(d.stderr.trim());
        expect(existsSync(join(parent, id))).toBe(false);
      }
    };
    try {
      await Promise.all([0, 1, 2].map(worker));
    } finally {
      bundle.remove();
    }
    expect(failures).toEqual([]);
    await expectNotLeftEmpty();
  }, 120_000);
});
