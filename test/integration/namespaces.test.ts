// Namespaces as the container sees them: its own pid/net/ipc/uts/mnt/cgroup/time namespaces, joined ones by path.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostDir, makeBundle, runOk, sh, state, testRoot, tsrunc, tsruncOk, uniqueId, type Spec } from '../helpers';
import { listProcesses, readMountinfo, tsruncCgroups } from '../setup/leaks';

const NS_FILES = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'time'] as const;

/** `name:[inode]` per namespace file, as the container's shell reads them. */
const READ_NS = sh(`for n in ${NS_FILES.join(' ')}; do echo "$n $(readlink /proc/self/ns/$n)"; done`);

function parseNs(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

function hostNs(pid: number | 'self' = 'self'): Record<string, string> {
  return Object.fromEntries(NS_FILES.map((n) => [n, readlinkSync(`/proc/${pid}/ns/${n}`)]));
}

function setNamespaces(types: string[]) {
  return (s: Spec) => {
    s.linux!.namespaces = types.map((type) => ({ type }));
    if (!types.includes('uts')) delete s.hostname; // a hostname needs a new uts namespace
  };
}

describe('new namespaces', () => {
  it('the default config gives new pid, network, ipc, uts, mount and cgroup namespaces', async () => {
    const seen = parseNs(await runOk(undefined, READ_NS));
    const host = hostNs();
    for (const n of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']) expect(seen[n], n).not.toBe(host[n]);
    expect(seen.time).toBe(host.time);
  });

  it('namespaces left out of the config are the host ones', async () => {
    const seen = parseNs(await runOk(setNamespaces(['mount']), READ_NS));
    const host = hostNs();
    expect(seen.mnt).not.toBe(host.mnt);
    for (const n of ['pid', 'net', 'ipc', 'uts', 'cgroup', 'time']) expect(seen[n], n).toBe(host[n]);
  });

  it('pid: the user process is pid 1 and sees only its own processes', async () => {
    const out = await runOk(undefined, sh('echo $$; ls /proc | grep -c "^[0-9]*$"'));
    const [pid, count] = out.trim().split('\n');
    expect(pid).toBe('1');
    // sh itself and the ls/grep pipeline: a handful, never the host's hundreds.
    expect(Number(count)).toBeLessThanOrEqual(4);
  });

  it('network: only lo, and it is down', async () => {
    const out = await runOk(undefined, sh('tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /sys/class/net/lo/operstate'));
    const lines = out.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual(['lo']);
    expect(lines.at(-1)).toMatch(/down|unknown/);
  });

  it('ipc: the host System V objects are not visible', async () => {
    // A segment of our own on the host first, so that "none visible" means something.
    const shmid = Number(/(\d+)/.exec(execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }))![1]);
    try {
      const hostShm = readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
      expect(hostShm).toContain(String(shmid));
      const out = await runOk(undefined, sh('cat /proc/sysvipc/shm'));
      expect(out.trim().split('\n')).toHaveLength(1); // only the header
    } finally {
      execFileSync('ipcrm', ['-m', String(shmid)]);
    }
  });

  it('uts: hostname and domainname are the config ones; the host keeps its own', async () => {
    const before = hostname();
    const hostDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const out = await runOk(
      (s) => {
        s.hostname = 'box-one';
        s.domainname = 'example.org';
      },
      sh('hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname'),
    );
    expect(out).toBe('box-one\nbox-one\nexample.org\n');
    expect(hostname()).toBe(before);
    expect(readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(hostDomain);
  });

  it('mount: while it runs, the container mounts are not in the host mount table and vice versa', async () => {
    const bundle = makeBundle({ args: ['sleep', '30'] });
    const id = uniqueId('mnt');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    try {
      const pid = (await state(id)).pid!;
      const inside = readMountinfo(pid);
      const host = readMountinfo();
      expect(inside.map((m) => m.mountPoint)).toEqual(expect.arrayContaining(['/', '/proc', '/dev', '/dev/pts']));
      // Mount ids are unique system-wide: a mount in both tables would be one shared mount.
      const hostIds = new Set(host.map((m) => m.mountId));
      expect(inside.filter((m) => hostIds.has(m.mountId)).map((m) => m.line)).toEqual([]);
      expect(host.filter((m) => m.mountPoint.startsWith(bundle.rootfs)).map((m) => m.line)).toEqual([]);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('cgroup: /proc/self/cgroup shows the container at the root of its cgroup namespace', async () => {
    const out = await runOk(undefined, ['cat', '/proc/self/cgroup']);
    expect(out.split('\n')).toContain('0::/');
  });

  it('time: timeOffsets shift monotonic and boottime clocks', async () => {
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const out = await runOk(
      (s) => {
        s.linux!.namespaces!.push({ type: 'time' });
        s.linux!.timeOffsets = { monotonic: { secs: 864000, nanosecs: 0 }, boottime: { secs: 3600, nanosecs: 500 } };
      },
      sh('cat /proc/self/timens_offsets; cut -d" " -f1 /proc/uptime; readlink /proc/self/ns/time'),
    );
    const lines = out.trim().split('\n');
    const offsets = Object.fromEntries(lines.slice(0, 2).map((l) => {
      const [clock, secs, nsecs] = l.trim().split(/\s+/);
      return [clock, [Number(secs), Number(nsecs)]];
    }));
    expect(offsets).toEqual({ monotonic: [864000, 0], boottime: [3600, 500] });
    const uptime = Number(lines[2]);
    expect(uptime).toBeGreaterThanOrEqual(hostUptime + 3600);
    expect(uptime).toBeLessThan(hostUptime + 3600 + 60);
    expect(lines[3]).not.toBe(readlinkSync('/proc/self/ns/time'));
  });
});

describe('joining a namespace by path', () => {
  it('network and uts paths of another container are joined', async () => {
    const a = makeBundle({ args: ['sleep', '1000'], mutate: (s) => void (s.hostname = 'container-a') });
    const idA = uniqueId('nsa');
    await tsruncOk(['create', '--bundle', a.dir, idA]);
    try {
      const { pid } = await state(idA);
      const out = await runOk(
        (s) => {
          s.hostname = undefined;
          s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
            n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n.type === 'uts' ? { type: 'uts', path: `/proc/${pid}/ns/uts` } : n,
          );
        },
        sh('for n in net uts ipc; do readlink /proc/self/ns/$n; done; hostname'),
      );
      const [net, uts, ipc, name] = out.trim().split('\n');
      expect(net).toBe(readlinkSync(`/proc/${pid}/ns/net`));
      expect(uts).toBe(readlinkSync(`/proc/${pid}/ns/uts`));
      expect(ipc).not.toBe(readlinkSync(`/proc/${pid}/ns/ipc`)); // not asked to join: a new one
      expect(name).toBe('container-a');
    } finally {
      await tsrunc(['delete', '--force', idA]);
      a.remove();
    }
  });
});

describe('bad namespace paths', () => {
  async function expectCleanFailure(nsPath: string, type: string, msg: RegExp) {
    const bundle = makeBundle({
      args: ['true'],
      mutate: (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === type ? { type, path: nsPath } : n));
      },
    });
    const index = bundle.spec.linux!.namespaces!.findIndex((n) => n.type === type);
    const id = uniqueId('badns');
    const mountsBefore = new Set(readMountinfo().map((m) => m.line));
    const procsBefore = new Set(listProcesses().map((p) => `${p.pid}:${p.startTime}`));
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`linux.namespaces[${index}]`);
    expect(lines[0]).toMatch(msg);
    // Nothing left behind: state dir, cgroup, mount, process.
    expect(existsSync(join(testRoot(), id))).toBe(false);
    expect(tsruncCgroups().filter((c) => c.includes(id))).toEqual([]);
    expect(readMountinfo().filter((m) => !mountsBefore.has(m.line)).map((m) => m.line)).toEqual([]);
    const strays = listProcesses().filter((p) => {
      if (procsBefore.has(`${p.pid}:${p.startTime}`) || !p.reason) return false;
      let cg = '';
      try {
        cg = readFileSync(`/proc/${p.pid}/cgroup`, 'utf8');
      } catch {
        return false;
      }
      return cg.includes(id) || p.reason.includes(bundle.dir);
    });
    expect(strays).toEqual([]);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
    bundle.remove();
  }

  it('a regular file as a network namespace is refused', async () => {
    const f = join(hostDir(), 'not-a-namespace');
    writeFileSync(f, 'hello');
    await expectCleanFailure(f, 'network', /namespace|nsfs|not/i);
  });

  it('a uts namespace given as network is refused', async () => {
    await expectCleanFailure('/proc/self/ns/uts', 'network', /uts|type|net/i);
  });

  it('a missing path is refused', async () => {
    await expectCleanFailure('/nonexistent/ns/net', 'network', /nonexistent|no such file|ENOENT/i);
  });
});

describe('time namespace in a user namespace', () => {
  it('timeOffsets are written for a container with its own user namespace', async () => {
    const bundle = makeBundle({
      args: sh('cat /proc/self/timens_offsets'),
      mutate: (s) => {
        s.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.timeOffsets = { monotonic: { secs: 1000, nanosecs: 0 } };
        // sysfs and cgroup mounts are not a user namespace's to make without its own network/cgroup view.
        s.mounts = s.mounts!.filter((m) => m.type !== 'sysfs' && m.type !== 'cgroup');
      },
    });
    chmodSync(bundle.dir, 0o755); // the container's root is an unprivileged host uid
    const r = await tsrunc(['run', '--bundle', bundle.dir, uniqueId('uts')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^monotonic\s+1000\s+0$/m);
  });
});
