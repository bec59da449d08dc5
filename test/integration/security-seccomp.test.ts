// Seccomp filters compiled by tsrunc, as the container's processes feel them.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeccompConfig } from '../../src/runtime/seccomp';
import { dockerProfileToOci } from '../unit/seccomp/json-eval';
import { childEnv, hostDir, makeBundle, runContainer, runId, tsrunc, uniqueId, type Spec } from '../helpers';

function withSeccomp(seccomp: SeccompConfig, more?: (spec: Spec) => void) {
  return (spec: Spec) => {
    spec.root!.readonly = false;
    spec.linux!.seccomp = seccomp as NonNullable<Spec['linux']>['seccomp'];
    more?.(spec);
  };
}

const allowAllBut = (syscalls: SeccompConfig['syscalls']): SeccompConfig => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls,
});

describe('seccomp', () => {
  it('the filter is in place: Seccomp 2, one filter', async () => {
    const r = await runContainer(withSeccomp(allowAllBut([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }])), ['grep', '^Seccomp', '/proc/self/status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stdout).toMatch(/^Seccomp_filters:\s+1$/m);
  });

  it('a denied syscall fails with the configured errno, an allowed one succeeds', async () => {
    const r = await runContainer(
      withSeccomp(
        allowAllBut([
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }, // ENOSPC
          { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' }, // default errno: EPERM
        ]),
      ),
      ['sh', '-c', 'mkdir /tmp/a; echo mkdir=$?; touch /tmp/f && echo touch=ok; rmdir /tmp; echo rmdir=$?'],
    );
    expect(r.stdout).toContain('mkdir=1');
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/a': No space left on device/);
    expect(r.stdout).toContain('touch=ok');
    expect(r.stderr).toMatch(/rmdir: '\/tmp': Operation not permitted/);
  });

  it('an exec\'d process gets the container\'s filter too', async () => {
    const bundle = makeBundle({
      args: ['sleep', '30'],
      mutate: withSeccomp(allowAllBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }])),
    });
    const id = uniqueId('secexec');
    try {
      expect((await tsrunc(['create', '--bundle', bundle.dir, id])).code).toBe(0);
      const r = await tsrunc(['exec', id, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo rc=$?']);
      expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
      expect(r.stdout).toContain('rc=1');
      expect(r.stderr).toMatch(/No space left on device/);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('rules whose action equals the default action are skipped (like runc)', async () => {
    const r = await runContainer(
      withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ALLOW' }],
      }),
      ['sh', '-c', 'mkdir /tmp/a && echo ok'],
    );
    expect(r.stdout.trim()).toBe('ok');
  });

  it('argument filters: socket(AF_INET) denied, AF_INET6 allowed', async () => {
    const r = await runContainer(
      withSeccomp(
        allowAllBut([
          { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }] },
        ]),
      ),
      // Both fail to connect (lo is down in the new network namespace), but for different reasons.
      ['sh', '-c', 'nc -w 1 127.0.0.1 1 </dev/null; echo v4=$?; nc -w 1 ::1 1 </dev/null; echo v6=$?'],
    );
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/Address family not supported by protocol/);
    expect(lines[1]).toBeDefined();
    expect(lines[1]).not.toMatch(/Address family not supported/);
  });

  it('argument filters: MASKED_EQ and several conditions (64-bit compares) in one rule', async () => {
    // openat(dirfd, path, flags, mode): deny truncating opens for write (flags & (O_ACCMODE|O_TRUNC) ==
    // O_WRONLY|O_TRUNC) with mode 0666 and a path pointer below 2^56 (a high-word compare); appends pass.
    const r = await runContainer(
      withSeccomp(
        allowAllBut([
          {
            names: ['openat', 'open'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 30, // EROFS
            args: [
              { index: 2, value: 0o1003, valueTwo: 0o1001, op: 'SCMP_CMP_MASKED_EQ' },
              { index: 3, value: 0o666, op: 'SCMP_CMP_EQ' },
              { index: 1, value: 2 ** 56, op: 'SCMP_CMP_LT' },
            ],
          },
        ]),
      ),
      ['sh', '-c', 'grep -q root /etc/passwd && echo read=ok; echo x > /tmp/w; echo write=$?; echo x >> /tmp/w2; echo append=$?'],
    );
    expect(r.stdout).toContain('read=ok');
    expect(r.stdout).toContain('write=1');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.stdout).toContain('append=0');
  });

  it('SCMP_ACT_KILL_PROCESS: the process dies by SIGSYS (exit 159)', async () => {
    const r = await runContainer(withSeccomp(allowAllBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }])), ['mkdir', '/tmp/a']);
    expect(r.code).toBe(128 + 31);
  });

  it("Podman's default profile runs a busybox shell; defaultErrnoRet answers what it does not list", async () => {
    // From golang-github-containers-common (.ci/run installs it): a missing file fails, never skips.
    const profile = '/usr/share/containers/seccomp.json';
    expect(existsSync(profile), `${profile} is missing: install golang-github-containers-common`).toBe(true);
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const oci = dockerProfileToOci(JSON.parse(readFileSync(profile, 'utf8')), caps);
    expect(oci.defaultErrnoRet).toBe(38);
    const script = 'echo hello; ls / >/dev/null && echo ls=ok; mkdir /tmp/d && echo mkdir=ok; linux32 uname -m; swapoff /nothing';
    const r = await runContainer(withSeccomp(oci), ['sh', '-c', script]);
    expect(r.stdout).toContain('hello');
    expect(r.stdout).toContain('ls=ok');
    expect(r.stdout).toContain('mkdir=ok');
    // personality(PER_LINUX32) is one of the argument values the profile allows.
    expect(r.stdout).toContain('i686');
    // swapoff is listed with errnoRet 1.
    expect(r.stderr).toMatch(/swapoff: \/nothing: Operation not permitted/);
    // Unlisted calls get the default action: the same profile without mkdir, with two defaultErrnoRets.
    const noMkdir = {
      ...oci,
      syscalls: oci.syscalls!.map((sc) => ({ ...sc, names: sc.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat') })).filter((sc) => sc.names.length > 0),
    };
    const r2 = await runContainer(withSeccomp(noMkdir), ['sh', '-c', 'mkdir /tmp/d; echo rc=$?']);
    expect(r2.stdout).toContain('rc=1');
    expect(r2.stderr).toMatch(/Function not implemented/);
    const r3 = await runContainer(withSeccomp({ ...noMkdir, defaultErrnoRet: 1 }), ['sh', '-c', 'mkdir /tmp/d; echo rc=$?']);
    expect(r3.stderr).toMatch(/Operation not permitted/);
  });
});

// A seccomp agent: accepts one connection, takes the notify fd and the process state, answers the first
// notification with EACCES, and prints what it saw as JSON.
const AGENT = String.raw`
import socket, sys, os, json, struct, fcntl, select
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 65536, 16)
out = {"state": json.loads(msg.decode()), "nfds": len(fds)}
fd = fds[0]
out["link"] = os.readlink("/proc/self/fd/%d" % fd)
select.select([fd], [], [], 10)
buf = bytearray(80)
fcntl.ioctl(fd, 0xc0502100, buf, True)
nid, pid, fl, nr = struct.unpack_from("<QIIi", buf, 0)
out["notif"] = {"pid": pid, "nr": nr}
fcntl.ioctl(fd, 0xc0182101, bytearray(struct.pack("<QqiI", nid, 0, -13, 0)), True)
print(json.dumps(out), flush=True)
`;

async function startAgent(): Promise<{ path: string; child: ChildProcess; result: Promise<any> }> {
  const dir = hostDir('agent');
  const path = join(dir, 'agent.sock');
  const child = spawn('python3', ['-c', AGENT, path], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const result = new Promise<any>((resolve) => {
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.startsWith('ready\n')) ready();
    });
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      resolve(line ? JSON.parse(line) : null);
    });
  });
  await isReady;
  return { path, child, result };
}

describe('seccomp notify (listenerPath)', () => {
  it('a listener that is not there is a create error naming linux.seccomp.listenerPath', async () => {
    const r = await runContainer(
      withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: join(tmpdir(), `tsrunc-test-${runId()}-no-such-agent.sock`),
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      }),
      ['true'],
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('linux.seccomp.listenerPath');
  });

  for (const nnp of [true, false]) {
    it(`the listener gets exactly one notify fd and the container process state (noNewPrivileges ${nnp})`, async () => {
      const agent = await startAgent();
      try {
        const id = `notify-${nnp}-${process.pid}`;
        const r = await runContainer(
          withSeccomp(
            {
              defaultAction: 'SCMP_ACT_ALLOW',
              listenerPath: agent.path,
              listenerMetadata: 'hello-agent',
              syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
            },
            (spec) => {
              spec.process!.noNewPrivileges = nnp;
              spec.annotations = { 'org.test': 'x' };
            },
          ),
          ['mkdir', '/tmp/a'],
          { id },
        );
        const seen = await agent.result;
        expect(seen).not.toBeNull();
        expect(seen.nfds).toBe(1);
        expect(seen.link).toBe('anon_inode:seccomp notify');
        expect(seen.state.ociVersion).toBeTypeOf('string');
        expect(seen.state.fds).toEqual(['seccompFd']);
        expect(seen.state.metadata).toBe('hello-agent');
        expect(seen.state.state.id).toBe(id);
        // Loaded after start in both modes now (seccomp is the last step before execve, issue 9).
        expect(seen.state.state.status).toBe('created');
        expect(seen.state.state.annotations).toEqual({ 'org.test': 'x' });
        expect(seen.state.pid).toBeGreaterThan(1);
        expect(seen.state.state.pid).toBe(seen.state.pid);
        // The container's init itself made the notified call.
        expect(seen.notif.pid).toBe(seen.state.pid);
        expect(seen.notif.nr).toBe(83); // mkdir on x86_64
        // The agent's answer reached the container.
        expect(r.stderr).toMatch(/Permission denied/);
        expect(r.code).toBe(1);
      } finally {
        agent.child.kill('SIGKILL');
      }
    });
  }
});
