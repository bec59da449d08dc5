// Host cgroup2 mount: remove() kills and removes only what create made; cgroup files are opened only
// beneath the cgroup2 mount and on cgroupfs (paths can come from an untrusted state.json).
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCgroupFile } from '../../../src/runtime/cgroups/fsutil';
import { Cgroup } from '../../../src/runtime/cgroups/manager';
import { findCgroup2Mount } from '../../../src/runtime/cgroups/mountinfo';

const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
const canRun = process.getuid?.() === 0 && mount !== undefined;
const base = `/tsrunc-test-own-${process.pid}`;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
  if (mount && existsSync(posix.join(mount.mountPoint, base))) await Cgroup.open(base, { mount, created: [posix.join(mount.mountPoint, base)] }).remove();
});

describe.skipIf(!canRun)('cgroup ownership', () => {
  it('a pre-existing cgroup: create does not claim it, remove() neither kills nor removes it, and warns', async () => {
    const dir = posix.join(mount!.mountPoint, base, 'pre');
    mkdirSync(dir, { recursive: true });
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(sleeper);
    await new Promise((r) => sleeper.once('spawn', r));
    const cg = Cgroup.create(`${base}/pre`, { mount });
    expect(cg.created).toEqual([]);
    // a host process joins it later (create refuses a cgroup that already has processes, below)
    writeFileSync(posix.join(dir, 'cgroup.procs'), String(sleeper.pid));
    expect(() => Cgroup.create(`${base}/pre`, { mount })).toThrow(/^linux\.cgroupsPath: .* already has processes/);
    const warnings: string[] = [];
    await cg.remove((w) => warnings.push(w));
    expect(warnings).toHaveLength(1);
    expect(existsSync(dir)).toBe(true);
    expect(cg.pids()).toEqual([sleeper.pid]);
    expect(sleeper.exitCode === null && sleeper.signalCode === null).toBe(true);
  });

  it('a state.json naming a created cgroup that is not the cgroup or one of its parents is refused', () => {
    expect(() => Cgroup.open(`${base}/pre`, { mount, created: ['/tmp'] })).toThrow(/invalid created cgroup/);
    expect(() => Cgroup.open(`${base}/pre`, { mount, created: [posix.join(mount!.mountPoint, base, 'other')] })).toThrow(/invalid created cgroup/);
    expect(() => Cgroup.open(`${base}/../../tmp`, { mount })).toThrow(/not an absolute normalized path/);
  });

  it('opens cgroup files only beneath the cgroup2 mount', () => {
    expect(() => openCgroupFile('/etc/passwd', constants.O_RDONLY, mount)).toThrow(/not a cgroup file/);
    expect(() => openCgroupFile(`${mount!.mountPoint}/../../../etc/passwd`, constants.O_RDONLY, mount)).toThrow(/not a cgroup file/);
    expect(() => openCgroupFile(`${mount!.mountPoint}/nonexistent-${process.pid}/cgroup.procs`, constants.O_RDONLY, mount)).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});

