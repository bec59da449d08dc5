// exec flags beyond the basics, proven from inside the container and from the host: --cap, --no-new-privs,
// -u/-g, --cwd/-e, --process, 128+N, --detach/--pid-file and the cgroup, --preserve-fds and LISTEN_FDS (exec,
// create, run), paused and stopped containers, every namespace (user and time included), no host fds,
// and the container's personality.
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cgroupProcs, childEnv, hostDir, containerCgroupDir, makeBundle, type Spec, state, statusField, tsrunc, tsruncArgv, tsruncOk, uniqueId, waitFor, waitForStatus } from '../helpers';

const dir = hostDir('exec-more');

let id = '';
let initPid = 0;

beforeAll(async () => {
  const bundle = makeBundle({ args: ['sleep', '100000'] });
  id = uniqueId('exm');
  await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
  initPid = (await state(id)).pid!;
});

/** A running container made from `mutate`d defaults; returns its id and init pid. */
async function running(mutate: (s: Spec) => void): Promise<{ id: string; pid: number }> {
  const bundle = makeBundle({ args: ['sleep', '100000'], mutate });
  chmodSync(bundle.dir, 0o755); // reachable for a mapped (non-root) container root
  const cid = uniqueId('exm');
  await tsruncOk(['run', '-d', '--bundle', bundle.dir, cid]);
  return { id: cid, pid: (await state(cid)).pid! };
}

// A seccomp agent for two connections (create's, then exec's): prints each process state it gets; for
// the second, answers the first notification with EACCES.
const AGENT = String.raw`
import socket, sys, os, json, struct, fcntl, select
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(2)
print("ready", flush=True)
for i in range(2):
    conn, _ = srv.accept()
    msg, fds, flags, addr = socket.recv_fds(conn, 65536, 16)
    out = {"state": json.loads(msg.decode()), "nfds": len(fds)}
    if i == 1:
        fd = fds[0]
        select.select([fd], [], [], 10)
        buf = bytearray(80)
        fcntl.ioctl(fd, 0xc0502100, buf, True)
        nid, pid, fl, nr = struct.unpack_from("<QIIi", buf, 0)
        out["notif"] = {"pid": pid, "nr": nr}
        fcntl.ioctl(fd, 0xc0182101, bytearray(struct.pack("<QqiI", nid, 0, -13, 0)), True)
    print(json.dumps(out), flush=True)
`;

const capEff = (status: string) => BigInt('0x' + statusField(status, 'CapEff'));
const CAP_SYS_ADMIN = 21n;
const CAP_NET_ADMIN = 12n;

let fileSeq = 0;
/** `extra` temp files opened as fds 3.. of tsrunc; returns what was written to each. */
function withFds(args: string[], extra: number, env: Record<string, string> = {}): { code: number | null; fds: string[]; stdout: string; stderr: string } {
  const files = Array.from({ length: extra }, () => join(dir, `fd-${++fileSeq}`));
  const fds = files.map((f) => openSync(f, 'w+'));
  try {
    const r = spawnSync(process.execPath, tsruncArgv(args), { stdio: ['ignore', 'pipe', 'pipe', ...fds], env: childEnv(env), encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, fds: files.map((f) => readFileSync(f, 'utf8')), stdout: r.stdout, stderr: r.stderr };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

describe('exec: identity and privileges', () => {
  it('-c adds a capability to every set the container process has', async () => {
    const without = await tsruncOk(['exec', id, 'cat', '/proc/self/status']);
    const withCaps = await tsruncOk(['exec', '-c', 'CAP_SYS_ADMIN', '--cap', 'CAP_NET_ADMIN', id, 'cat', '/proc/self/status']);
    expect((capEff(without) >> CAP_SYS_ADMIN) & 1n).toBe(0n);
    for (const set of ['CapEff', 'CapPrm', 'CapBnd']) {
      const mask = BigInt('0x' + statusField(withCaps, set));
      expect((mask >> CAP_SYS_ADMIN) & 1n, set).toBe(1n);
      expect((mask >> CAP_NET_ADMIN) & 1n, set).toBe(1n);
      // Nothing else changed.
      expect(mask & ~((1n << CAP_SYS_ADMIN) | (1n << CAP_NET_ADMIN)), set).toBe(BigInt('0x' + statusField(without, set)));
    }
  });

  it('an unknown capability is a warning naming it (config.md; runc too), and the process runs', async () => {
    const r = await tsrunc(['exec', '-c', 'CAP_NO_SUCH', id, 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*CAP_NO_SUCH/);
  });

  it('--no-new-privs sets no_new_privs where the container does not', async () => {
    const c = await running((s) => void (s.process!.noNewPrivileges = false));
    try {
      expect(statusField(await tsruncOk(['exec', c.id, 'cat', '/proc/self/status']), 'NoNewPrivs')).toBe('0');
      expect(statusField(await tsruncOk(['exec', '--no-new-privs', c.id, 'cat', '/proc/self/status']), 'NoNewPrivs')).toBe('1');
    } finally {
      await tsrunc(['delete', '--force', c.id]);
    }
  });

  it('-u UID alone means gid 0; -g is repeatable', async () => {
    expect(await tsruncOk(['exec', '-u', '1234', id, 'sh', '-c', 'echo $(id -u) $(id -g)'])).toBe('1234 0\n');
    const out = await tsruncOk(['exec', '-u', '7:8', '-g', '10', '-g', '20', id, 'cat', '/proc/self/status']);
    expect(statusField(out, 'Uid').split(/\s+/)).toEqual(['7', '7', '7', '7']);
    expect(statusField(out, 'Gid').split(/\s+/)).toEqual(['8', '8', '8', '8']);
    expect(statusField(out, 'Groups').split(/\s+/)).toEqual(['10', '20']);
    // A non-root user keeps no capabilities.
    expect(capEff(out)).toBe(0n);
  });

  it('--cwd and -e: the working directory, added and overridden variables, PATH for the lookup', async () => {
    const out = await tsruncOk(['exec', '--cwd', '/etc', '-e', 'NEW=1', '-e', 'PATH=/sbin:/bin', id, 'sh', '-c', 'pwd; echo "$NEW $PATH"']);
    expect(out).toBe('/etc\n1 /sbin:/bin\n');
    const r = await tsrunc(['exec', '--cwd', '/no/such/dir', id, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no\/such\/dir|cwd/);
  });

  it('--process FILE: its rlimits, capabilities and no_new_privs, not the container\'s', async () => {
    const f = join(dir, 'process.json');
    writeFileSync(
      f,
      JSON.stringify({
        args: ['sh', '-c', 'ulimit -n; cat /proc/self/status'],
        env: ['PATH=/bin'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }],
        capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] },
        noNewPrivileges: false,
      }),
    );
    const out = await tsruncOk(['exec', '--process', f, id]);
    expect(out.split('\n')[0]).toBe('321');
    expect(capEff(out)).toBe(1n); // CAP_CHOWN is bit 0
    expect(statusField(out, 'CapBnd')).toBe('0000000000000001');
    expect(statusField(out, 'NoNewPrivs')).toBe('0');
  });
});

describe('exec: status, detach and fds', () => {
  it('exits 128+N when the process is killed by signal N', async () => {
    expect((await tsrunc(['exec', id, 'sh', '-c', 'kill -TERM $$'])).code).toBe(128 + 15);
    expect((await tsrunc(['exec', id, 'sh', '-c', 'kill -KILL $$'])).code).toBe(128 + 9);
  });

  it('--detach returns while the process runs; --pid-file names it; it is in the init\'s cgroup', async () => {
    const pidFile = join(dir, 'exec.pid');
    const t0 = Date.now();
    await tsruncOk(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '100000']);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\0' + '100000\0');
      const cgroupOf = (p: number) => readFileSync(`/proc/${p}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
      expect(cgroupOf(pid)).toBeDefined();
      expect(cgroupOf(pid)).toBe(cgroupOf(initPid));
      expect(cgroupOf(pid)).not.toBe(cgroupOf(process.pid));
      // And `ps` of the container lists it.
      expect((await tsruncOk(['ps', '--format', 'json', id])).replace(/\s/g, '')).toContain(String(pid));
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  // containerd's runc shim is a subreaper that reaps every orphan at once: a detached `true` can be gone
  // before tsrunc looks at it, which is an exit, not a failed exec (runc exits 0 too).
  it('--detach under a subreaper that reaps at once: a process that exits at once is still a success', () => {
    const reaper = String.raw`
import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
status = None
while True:
    try:
        p, st = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    if p == pid:
        status = os.waitstatus_to_exitcode(st)
sys.exit(status)
`;
    const failures: string[] = [];
    for (let i = 0; i < 25; i++) {
      const pidFile = join(dir, `reaped-${i}.pid`);
      const r = spawnSync('python3', ['-c', reaper, process.execPath, ...tsruncArgv(['exec', '--detach', '--pid-file', pidFile, id, 'true'])], { env: childEnv(), encoding: 'utf8' });
      if (r.status !== 0) failures.push(`run ${i}: exit ${r.status}: ${r.stderr.trim()}`);
      else if (!(Number(readFileSync(pidFile, 'utf8')) > 0)) failures.push(`run ${i}: no pid in --pid-file`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('--preserve-fds 2 passes fds 3 and 4 (and not 5)', () => {
    const r = withFds(['exec', '--preserve-fds', '2', id, 'sh', '-c', 'echo three >&3; echo four >&4; echo five >&5'], 3);
    expect(r.code).not.toBe(0); // fd 5 is not there
    expect(r.fds).toEqual(['three\n', 'four\n', '']);
  });

  it('LISTEN_FDS=1 (socket activation) passes fd 3; without it, fd 3 is closed', () => {
    const r = withFds(['exec', id, 'sh', '-c', 'echo activated >&3'], 1, { LISTEN_FDS: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.fds).toEqual(['activated\n']);
    const closed = withFds(['exec', id, 'sh', '-c', 'echo leaked >&3'], 1);
    expect(closed.code).not.toBe(0);
    expect(closed.fds).toEqual(['']);
  });

  it('LISTEN_FDS=1 for run passes fd 3 to the container init', () => {
    const bundle = makeBundle({ args: ['sh', '-c', 'echo run-activated >&3'] });
    const r = withFds(['run', '--bundle', bundle.dir, uniqueId('listen')], 1, { LISTEN_FDS: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.fds).toEqual(['run-activated\n']);
  });

  it('LISTEN_FDS=1 for create: the created init holds fd 3 until start', async () => {
    const bundle = makeBundle({ args: ['sh', '-c', 'echo create-activated >&3'] });
    const cid = uniqueId('listen');
    const file = join(dir, `${cid}.fd3`);
    const fd = openSync(file, 'w+');
    try {
      const stdio: StdioOptions = ['ignore', 'ignore', 'ignore', fd];
      const child = spawn(process.execPath, tsruncArgv(['create', '--bundle', bundle.dir, cid]), { stdio, env: childEnv({ LISTEN_FDS: '1' }) });
      expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    } finally {
      closeSync(fd); // ours: only the container's copy is left
    }
    await tsruncOk(['start', cid]);
    await waitForStatus(cid, 'stopped');
    expect(readFileSync(file, 'utf8')).toBe('create-activated\n');
    await tsruncOk(['delete', cid]);
  });

  it('the exec\'d process sees none of tsrunc\'s other fds', () => {
    // ls itself (no shell with its own fds): 0-2 and the directory it reads.
    const r = withFds(['exec', id, 'ls', '/proc/self/fd'], 3);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(/\s+/).filter(Boolean).map(Number).sort()).toEqual([0, 1, 2, 3]);
    expect(r.fds).toEqual(['', '', '']);
  });
});

describe('exec: container states', () => {
  it('a paused container refuses exec; --ignore-paused lets it through, frozen until resume', async () => {
    const cg = containerCgroupDir(id);
    const marker = `/proc/${initPid}/root/dev/shm/ignore-paused-${process.pid}`;
    await tsruncOk(['pause', id]);
    let allowed: ReturnType<typeof tsrunc> | undefined;
    try {
      expect((await state(id)).status).toBe('paused');
      expect(readFileSync(join(cg, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
      const refused = await tsrunc(['exec', id, 'true']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/^tsrunc: exec: .*paused/m);
      const before = new Set(cgroupProcs(cg));
      allowed = tsrunc(['exec', '--ignore-paused', id, 'sh', '-c', `echo ran > ${marker.replace(`/proc/${initPid}/root`, '')}; echo ran`]);
      // Once the exec'd process is in the frozen cgroup it cannot run: its file must not appear.
      await waitFor('the exec\'d process in the cgroup', () => cgroupProcs(cg).some((p) => !before.has(p)), 20_000);
      expect(readFileSync(join(cg, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
      expect(existsSync(marker), 'the exec ran while the container was paused').toBe(false);
    } finally {
      await tsruncOk(['resume', id]);
    }
    const r = await allowed!;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ran\n');
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    expect((await state(id)).status).toBe('running');
  });

});

describe('exec: namespaces and personality', () => {
  const ALL = ['user', 'pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'time'];

  it('joins every namespace of the init, user and time included', async () => {
    const c = await running((s) => {
      s.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      s.linux!.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 } };
    });
    try {
      const out = await tsruncOk(['exec', c.id, 'sh', '-c', `for n in ${ALL.join(' ')}; do readlink /proc/self/ns/$n; done; cat /proc/self/uid_map; id -u; grep monotonic /proc/self/timens_offsets`]);
      const lines = out.trim().split('\n');
      const theirs = ALL.map((n) => readlinkSync(`/proc/${c.pid}/ns/${n}`));
      expect(lines.slice(0, ALL.length)).toEqual(theirs);
      // None of them is ours.
      for (const [i, n] of ALL.entries()) expect(theirs[i], n).not.toBe(readlinkSync(`/proc/self/ns/${n}`));
      expect(lines[ALL.length]!.trim().split(/\s+/)).toEqual(['0', '300000', '65536']);
      expect(lines[ALL.length + 1]).toBe('0');
      expect(lines[ALL.length + 2]!.trim().split(/\s+/)).toEqual(['monotonic', '86400', '0']);
      // Seen from the host, the exec'd process runs as the mapped uid.
      const pidFile = join(dir, `${c.id}.pid`);
      await tsruncOk(['exec', '-d', '--pid-file', pidFile, c.id, 'sleep', '100000']);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(statusField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'Uid').split(/\s+/)[0]).toBe('300000');
      expect(readlinkSync(`/proc/${pid}/ns/time_for_children`)).toBe(readlinkSync(`/proc/${c.pid}/ns/time`));
      process.kill(pid, 'SIGKILL');
    } finally {
      await tsrunc(['delete', '--force', c.id]);
    }
  });

  it('seccomp notify: the agent gets a notify fd for the exec\'d process, with its pid, and answers its calls', async () => {
    const sock = join(dir, 'agent.sock');
    const agent = spawn('python3', ['-c', AGENT, sock], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    agent.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const agentDone = new Promise((r) => agent.on('exit', r));
    try {
      await waitFor('the seccomp agent to listen', () => out.includes('ready'), 20_000);
      const c = await running((s) => {
        s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: sock,
          listenerMetadata: 'exec-agent',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
        };
      });
      try {
        const pidFile = join(dir, `${c.id}.notify.pid`);
        const r = await tsrunc(['exec', '--pid-file', pidFile, c.id, 'mkdir', '/tmp/x']);
        expect(r.stderr).toMatch(/Permission denied/); // the agent's answer
        expect(r.code).toBe(1);
        await Promise.race([agentDone, new Promise((r) => setTimeout(r, 5000))]);
        const seen = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        expect(seen.map((x) => x.state.state.status)).toEqual(['created', 'running']);
        const ex = seen[1];
        expect(ex.nfds).toBe(1);
        expect(ex.state.metadata).toBe('exec-agent');
        expect(ex.state.state.id).toBe(c.id);
        expect(ex.state.state.pid).toBe(c.pid);
        expect(ex.state.pid).toBe(Number(readFileSync(pidFile, 'utf8')));
        expect(ex.notif.pid).toBe(ex.state.pid);
      } finally {
        await tsrunc(['delete', '--force', c.id]);
      }
    } finally {
      agent.kill('SIGKILL');
    }
  });

  it('runs under the container\'s linux.personality', async () => {
    const c = await running((s) => void (s.linux!.personality = { domain: 'LINUX32' }));
    try {
      expect(await tsruncOk(['exec', c.id, 'sh', '-c', 'cat /proc/self/personality; uname -m'])).toBe('00000008\ni686\n');
    } finally {
      await tsrunc(['delete', '--force', c.id]);
    }
  });
});
