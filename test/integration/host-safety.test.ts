// Issue 13, host-reaching bugs of delete: a pre-existing cgroup and its host processes survive; a forged
// state.json cannot reach files outside cgroupfs; the state-dir removal never follows a swapped-in symlink;
// a state root or directory that others can write is refused.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, REPO, runId, testRoot, tsrunc, tsruncOk, uniqueId, waitForStatus } from '../helpers';
import { removeTree } from '../helpers/fs';
import { readMountinfo, STATE_PARENT, STATE_PREFIX } from '../setup/leaks';

const CGROUP2 = '/sys/fs/cgroup/unified';
const NOBODY = 65534;
const sleepers: ChildProcess[] = [];
const cgroups: string[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of sleepers) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
  for (const d of dirs) {
    try {
      execUmount(d);
    } catch {
      // not mounted
    }
    removeTree(d);
  }
  for (const d of cgroups.reverse()) {
    try {
      rmdirSync(d);
    } catch {
      // gone
    }
  }
});

function execUmount(dir: string): void {
  if (readMountinfo().some((m) => m.mountPoint.startsWith(dir))) spawn('umount', ['-R', dir]);
}

async function hostSleeper(): Promise<ChildProcess> {
  const c = spawn('sleep', ['600'], { stdio: 'ignore' });
  sleepers.push(c);
  await new Promise((r) => c.once('spawn', r));
  return c;
}

function alive(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null && existsSync(`/proc/${c.pid}`);
}

/**
 * A cgroup2 directory that exists before tsrunc runs; `enter()` moves a host `sleep` into it (after the
 * create: a cgroup that already has processes is refused).
 */
async function victimCgroup(): Promise<{ path: string; dir: string; sleeper: ChildProcess; enter: () => void }> {
  const name = `tsrunc-test-${runId()}-victim-${uniqueId('v')}`;
  const dir = join(CGROUP2, name);
  mkdirSync(dir);
  cgroups.push(dir);
  const sleeper = await hostSleeper();
  return { path: `/${name}`, dir, sleeper, enter: () => writeFileSync(join(dir, 'cgroup.procs'), String(sleeper.pid)) };
}

/** Whether `pid` is gone (or a zombie waiting for its reaper). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function procsOf(dir: string): number[] {
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

/** A root that tsrunc must refuse or accept, under /run like the test roots. */
function stateRoot(mode: number, uid = 0): string {
  const root = mkdtempSync(join(STATE_PARENT, `${STATE_PREFIX}-${runId()}-hs-`));
  dirs.push(root);
  chmodSync(root, mode);
  chownSync(root, uid, uid);
  return root;
}

/** A stopped container's state.json, as an unprivileged user would forge it. */
function forgeState(root: string, id: string, cgroupPath: string, created: string[] = []): void {
  const dir = join(root, id);
  mkdirSync(dir, { mode: 0o711 });
  writeFileSync(join(dir, 'state.json'), JSON.stringify({
    ociVersion: '1.0.2', id, pid: 0, pidStartTime: 0, bundle: '/nonexistent', rootfs: '/nonexistent', created: new Date().toISOString(),
    annotations: {}, cgroupPath, cgroupDir: join(CGROUP2, cgroupPath), cgroupCreated: created, ownPidNamespace: true, hooks: {},
  }));
}

describe('a pre-existing cgroup (linux.cgroupsPath) is not tsrunc\'s', () => {
  it('run -d + delete: the host process in it lives, the cgroup stays', async () => {
    const victim = await victimCgroup();
    const bundle = makeBundle({ args: ['true'], mutate: (s) => void (s.linux!.cgroupsPath = victim.path) });
    const id = uniqueId('pre');
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    await waitForStatus(id, 'stopped');
    victim.enter();
    const r = await tsrunc(['delete', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(alive(victim.sleeper)).toBe(true);
    expect(existsSync(victim.dir)).toBe(true);
    expect(procsOf(victim.dir)).toEqual([victim.sleeper.pid]);
  });

  it('create + delete --force: the container was in it, the host process lives, the cgroup stays', async () => {
    const victim = await victimCgroup();
    const bundle = makeBundle({ args: ['sleep', '100'], mutate: (s) => void (s.linux!.cgroupsPath = victim.path) });
    const id = uniqueId('pre');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const { pid } = JSON.parse(await tsruncOk(['state', id])) as { pid: number };
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${victim.path}\n`);
    victim.enter();
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(gone(pid)).toBe(true);
    expect(alive(victim.sleeper)).toBe(true);
    expect(procsOf(victim.dir)).toEqual([victim.sleeper.pid]);
  });

  it('a cgroup tsrunc made is still emptied and removed with the container', async () => {
    const parent = `/tsrunc-test-${runId()}-own-${uniqueId('o')}`;
    const bundle = makeBundle({ args: ['sleep', '100'], mutate: (s) => void (s.linux!.cgroupsPath = `${parent}/ctr`) });
    const id = uniqueId('own');
    cgroups.push(join(CGROUP2, parent), join(CGROUP2, parent, 'ctr'));
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    await tsruncOk(['delete', '--force', id]);
    expect(existsSync(join(CGROUP2, parent))).toBe(false);
  });
});

describe('state.json is untrusted', () => {
  it('a cgroupPath that climbs out of cgroupfs is refused; the pid in the planted cgroup.procs lives', async () => {
    const victim = await hostSleeper();
    const root = stateRoot(0o700);
    const planted = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-plant-`));
    dirs.push(planted);
    writeFileSync(join(planted, 'cgroup.procs'), `${victim.pid}\n`);
    const id = uniqueId('forged');
    forgeState(root, id, `/../../..${planted}`, [join(CGROUP2, '../../..', planted)]);
    for (const args of [['delete', id], ['delete', '--force', id], ['kill', '--all', id, 'KILL']]) {
      const r = await tsrunc(args, { root });
      expect(r.code, args.join(' ')).not.toBe(0);
    }
    expect(alive(victim)).toBe(true);
  });

  it('a file mounted over a cgroup directory is "not a cgroup file"', async () => {
    const victim = await hostSleeper();
    const root = stateRoot(0o700);
    const name = `tsrunc-test-${runId()}-mnt-${uniqueId('m')}`;
    const dir = join(CGROUP2, name);
    mkdirSync(dir);
    cgroups.push(dir);
    const mounted = spawn('mount', ['-t', 'tmpfs', 'tsrunc-test', dir]);
    await new Promise((r) => mounted.once('exit', r));
    try {
      writeFileSync(join(dir, 'cgroup.procs'), `${victim.pid}\n`);
      writeFileSync(join(dir, 'cgroup.kill'), '');
      const id = uniqueId('forged');
      forgeState(root, id, `/${name}`, [dir]);
      const r = await tsrunc(['delete', '--force', id], { root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('not a cgroup file');
      expect(alive(victim)).toBe(true);
    } finally {
      const um = spawn('umount', [dir]);
      await new Promise((r) => um.once('exit', r));
    }
  });

  it('a state root or state directory others can write, or someone else owns, is refused', async () => {
    const victim = await victimCgroup();
    for (const [mode, uid] of [[0o777, 0], [0o1777, 0], [0o770, 0], [0o700, NOBODY]] as const) {
      const root = stateRoot(mode, uid);
      const id = uniqueId('wr');
      // "fully forged": it even claims to have made the cgroup
      forgeState(root, id, victim.path, [victim.dir]);
      chownSync(join(root, id), NOBODY, NOBODY);
      for (const args of [['delete', '--force', id], ['state', id], ['list']]) {
        const r = await tsrunc(args, { root });
        expect(r.code, `${args.join(' ')} in a root of mode ${mode.toString(8)} uid ${uid}`).not.toBe(0);
      }
      const bundle = makeBundle({ args: ['true'] });
      expect((await tsrunc(['create', '--bundle', bundle.dir, uniqueId('wr')], { root })).code).not.toBe(0);
    }
    // a root others can write or someone else owns, around a container directory that is ours
    for (const [mode, uid] of [[0o777, 0], [0o700, NOBODY]] as const) {
      const root = stateRoot(mode, uid);
      const id = uniqueId('wr');
      forgeState(root, id, victim.path, [victim.dir]);
      const r = await tsrunc(['delete', '--force', id], { root });
      expect(r.code, `delete --force in a root of mode ${mode.toString(8)} uid ${uid}`).not.toBe(0);
      expect(r.stderr).toContain(`state root ${root}`);
    }
    // a private root, but a container directory others can write
    const root = stateRoot(0o700);
    const id = uniqueId('wr');
    forgeState(root, id, victim.path, [victim.dir]);
    chmodSync(join(root, id), 0o777);
    expect((await tsrunc(['delete', '--force', id], { root })).code).not.toBe(0);
    expect(alive(victim.sleeper)).toBe(true);
    expect(existsSync(victim.dir)).toBe(true);
  });
});

describe('removing a state directory never follows a symlink', () => {
  it('a subdirectory swapped for a symlink mid-walk: the root-owned target keeps all its files', async () => {
    const target = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-target-`));
    dirs.push(target);
    for (let i = 0; i < 200; i++) writeFileSync(join(target, `f${i}`), 'keep');
    const root = testRoot();
    const ROUNDS = 8;
    for (let round = 0; round < ROUNDS; round++) {
      const id = uniqueId('swap');
      const dir = join(root, id);
      mkdirSync(dir, { mode: 0o711 });
      // a create killed early: no state.json, a tree to walk
      for (let d = 0; d < 20; d++) {
        mkdirSync(join(dir, `d${d}`));
        for (let i = 0; i < 30; i++) writeFileSync(join(dir, `d${d}`, `f${i}`), '');
      }
      const swapper = spawn('/usr/bin/python3', [join(REPO, 'test/fixtures/host-safety/swapper.py'), dir, target], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((r) => swapper.stdout!.once('data', r)); // swapping
      const r = await tsrunc(['delete', '--force', id]);
      swapper.kill('SIGKILL');
      await new Promise((r2) => swapper.once('exit', r2));
      expect(readdirSync(target).length, `round ${round}: ${r.stderr}`).toBe(200);
      // what the swapper left (a link, a renamed directory) goes too
      removeTree(dir);
    }
  }, 60_000);
});
