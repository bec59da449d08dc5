// Regression tests for the classic runtime escapes, each named by the CVE whose class it covers.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, hostDir, makeBundle, readMountinfo, runContainer, testRoot, tsrunc, uniqueId, type Bundle, type Spec } from '../helpers';

const INIT_BINARY = join(REPO, 'build', 'Release', 'tsrunc-init');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** A created container (init waiting for start); `fn` gets its id, bundle and init pid. */
async function withCreated(mutate: ((spec: Spec) => void) | undefined, fn: (id: string, bundle: Bundle, pid: number) => Promise<void>) {
  const bundle = makeBundle({ args: ['sleep', '30'], mutate });
  const id = uniqueId('esc');
  try {
    const c = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const pid = JSON.parse((await tsrunc(['state', id])).stdout).pid as number;
    await fn(id, bundle, pid);
  } finally {
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
  }
}

describe('CVE-2019-5736 class: the runtime binary cannot be overwritten through /proc/<pid>/exe', () => {
  it("a created init runs from a sealed memfd; writing through /proc/1/exe fails; the host binary is unchanged", async () => {
    const before = sha(INIT_BINARY);
    await withCreated(undefined, async (id, _bundle, pid) => {
      expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:tsrunc-init/);
      const caps = ['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_SYS_ADMIN'];
      const r = await tsrunc([
        'exec', ...caps.flatMap((c) => ['--cap', c]), id,
        'sh', '-c', 'readlink /proc/1/exe; echo pwned > /proc/1/exe; echo write=$?; echo pwned >> /proc/1/exe; echo append=$?',
      ]);
      // The exec ran, saw the memfd init, and both writes were tried and failed.
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout.split('\n');
      expect(out[0]).toMatch(/^\/memfd:tsrunc-init/);
      expect(out).toContainEqual(expect.stringMatching(/^write=[1-9]\d*$/));
      expect(out).toContainEqual(expect.stringMatching(/^append=[1-9]\d*$/));
      expect(r.stderr).toMatch(/exe/); // the shell's own error for each refused open
    });
    expect(sha(INIT_BINARY)).toBe(before);
  });

  it('a process racing exec cannot write to the runtime either (the exec helper is a memfd too)', async () => {
    const before = sha(INIT_BINARY);
    await withCreated((spec) => void (spec.root!.readonly = false), async (id) => {
      // In the container: keep trying to open every other process's exe for writing while execs come and go.
      const spy = 'end=$(($(date +%s)+3)); while [ $(date +%s) -lt $end ]; do for e in /proc/[0-9]*/exe; do l=$(readlink $e 2>/dev/null); case "$l" in *busybox*|"") ;; *) echo "$l" >> /tmp/seen; (echo pwned > $e) 2>/dev/null && echo WROTE >> /tmp/seen;; esac; done; done';
      const caps = ['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE'];
      const spyRun = tsrunc(['exec', ...caps.flatMap((c) => ['--cap', c]), id, 'sh', '-c', spy]);
      // Execs of a long-lived non-busybox program (sleep is busybox too: the exec helper is what the spy sees).
      for (let i = 0; i < 10; i++) expect((await tsrunc(['exec', id, 'true'])).code).toBe(0);
      const spyResult = await spyRun;
      expect(spyResult.code, spyResult.stderr).toBe(0);
      const seen = await tsrunc(['exec', id, 'cat', '/tmp/seen']);
      expect(seen.code, 'the spy saw no exe but busybox: it proved nothing').toBe(0);
      const lines = seen.stdout.split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines).not.toContain('WROTE');
      for (const l of lines) expect(l).toMatch(/^\/memfd:tsrunc-init/);
    });
    expect(sha(INIT_BINARY)).toBe(before);
  });
});

function fdLines(out: string): Array<{ fd: number; target: string }> {
  return out
    .split('\n')
    .map((l) => /\s(\d+) -> (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ fd: Number(m[1]), target: m[2]! }));
}

describe('CVE-2024-21626 class: no host fd or cwd reaches the container', () => {
  // The shell's own fds ($$), read from /proc/<pid>/fd, and its cwd.
  const script = 'ls -l /proc/$$/fd/; echo cwd=$(readlink /proc/$$/cwd)';

  function checkFds(out: string, cwd: string) {
    const fds = fdLines(out);
    expect(fds.map((f) => f.fd).sort()).toEqual([0, 1, 2]);
    for (const f of fds) {
      expect(f.target).not.toContain(testRoot());
      expect(f.target).not.toContain('/sys/fs/cgroup');
    }
    expect(out).toContain(`cwd=${cwd}\n`);
  }

  it('run: only stdio, cwd inside the container', async () => {
    const r = await runContainer((spec) => void (spec.process!.cwd = '/tmp'), ['sh', '-c', script]);
    expect(r.stderr).toBe('');
    checkFds(r.stdout, '/tmp');
  });

  it('exec: only stdio, cwd inside the container', async () => {
    await withCreated(undefined, async (id) => {
      const r = await tsrunc(['exec', '--cwd', '/etc', id, 'sh', '-c', script]);
      expect(r.stderr).toBe('');
      checkFds(r.stdout, '/etc');
    });
  });

  it('process.cwd = /proc/self/fd/N never lands outside the rootfs', async () => {
    // A marker only the host's / holds: walking up from a leaked cwd would find it.
    const marker = `tsrunc-test-marker-${process.pid}`;
    writeFileSync(join('/', marker), '');
    try {
      for (let n = 3; n <= 12; n++) {
        const r = await runContainer((spec) => void (spec.process!.cwd = `/proc/self/fd/${n}`), ['sh', '-c', 'readlink /proc/self/cwd; ls -a ../../../../../..']);
        if (r.code !== 0) {
          // Refused: one clear error, and no container output at all.
          expect(r.stderr.trim().split('\n'), `cwd /proc/self/fd/${n}`).toHaveLength(1);
          expect(r.stdout).toBe('');
          continue;
        }
        const cwd = r.stdout.split('\n')[0]!;
        expect(cwd, `cwd /proc/self/fd/${n}`).not.toContain(testRoot());
        expect(cwd).not.toContain('/sys/fs/cgroup');
        expect(cwd).not.toContain('tsrunc-test');
        // Walking up ends at the container's root: the busybox rootfs, not the host's.
        const top = r.stdout.split('\n').slice(1);
        expect(top).toContain('bin');
        expect(top).not.toContain(marker);
      }
    } finally {
      rmSync(join('/', marker), { force: true });
    }
  });
});

describe('CVE-2021-30465 class: symlinks in the rootfs cannot redirect a mount outside it', () => {
  for (const kind of ['absolute', 'relative'] as const) {
    it(`a mount destination that is a ${kind} symlink to a host dir mounts inside the rootfs (or is refused)`, async () => {
      const hosts = [hostDir(), hostDir()];
      for (const h of hosts) writeFileSync(join(h, 'host-file'), 'host\n');
      const mountsOnHosts = () => readMountinfo().filter((m) => hosts.some((h) => m.mountPoint.startsWith(h))).length;
      const link = (h: string) => (kind === 'absolute' ? h : '../'.repeat(20) + h.slice(1));
      for (const present of [false, true]) {
        const bundle = makeBundle({
          args: ['sh', '-c', 'ls -a /evil; echo ---; ls -a /evil2'],
          mutate: (spec) => {
            spec.mounts!.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
            spec.mounts!.push({ destination: '/evil2/sub', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
          },
        });
        symlinkSync(link(hosts[0]!), join(bundle.rootfs, 'evil'));
        symlinkSync(link(hosts[1]!), join(bundle.rootfs, 'evil2'));
        // Second round: the link targets exist inside the rootfs, so the mounts can go there.
        if (present) for (const h of hosts) mkdirSync(join(bundle.rootfs, h), { recursive: true });
        const id = uniqueId('symlink');
        const run = await tsrunc(['run', '--bundle', bundle.dir, id]);
        await tsrunc(['delete', '--force', id]);
        // Nothing was mounted on the host dirs, and they hold only their own file.
        expect(mountsOnHosts()).toBe(0);
        for (const h of hosts) expect(readdirSync(h)).toEqual(['host-file']);
        // Dangling inside the rootfs, the link targets are made there (as runc does); either way, seen from
        // inside, the links lead to the tmpfs mounts in the rootfs, not to the host files.
        expect(run.stderr).toBe('');
        expect(run.stdout.split('---').map((part) => part.trim().split(/\s+/).sort())).toEqual([['.', '..'], ['.', '..', 'sub']]);
        for (const h of hosts) expect(existsSync(join(bundle.rootfs, h))).toBe(true);
        bundle.remove();
      }
    });
  }

  it('a symlink brought in by an earlier bind mount is resolved inside the rootfs too', async () => {
    // The host dir bound at /m holds `link -> <target on the host>`; a later mount goes to /m/link/x.
    const target = hostDir();
    writeFileSync(join(target, 'keep'), 'host\n');
    const carrier = hostDir();
    symlinkSync(target, join(carrier, 'link'));
    const mountsBefore = readMountinfo().map((m) => m.line);
    const r = await runContainer(
      (s) => {
        s.mounts!.push({ destination: '/m', type: 'bind', source: carrier, options: ['rbind'] });
        s.mounts!.push({ destination: '/m/link/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      },
      ['true'],
    );
    expect(readdirSync(target)).toEqual(['keep']);
    expect(readMountinfo().map((m) => m.line)).toEqual(mountsBefore);
    // Refused with one line, or run: the host dir and mount table are untouched either way.
    if (r.code !== 0) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    else expect(r.stderr).toBe('');
  });
});

describe('CVE-2025-31133 / CVE-2025-52565 class: masked paths and /dev/console cannot be swapped', () => {
  it('/dev/null swapped for a symlink after the devices are made: masking refuses it, the masked file is never the target', async () => {
    // A createContainer hook runs in the container's mount namespace after /dev is populated and before
    // the paths are masked: it swaps /dev/null for a symlink to core_pattern. The attack then writes the
    // masked file itself: were the mask a bind of the symlink's target, the host's core_pattern changes.
    const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const bundle = makeBundle({
      args: ['sh', '-c', 'stat -c "%F %t:%T" /proc/keys; wc -c < /proc/keys; echo "|/evil" > /proc/keys; echo keys=$?'],
      mutate: (spec) => void (spec.linux!.maskedPaths = ['/proc/keys', '/proc/timer_list']),
    });
    const hook = join(bundle.dir, 'swap-null.sh');
    writeFileSync(hook, `#!/bin/sh\nrm -f ${bundle.rootfs}/dev/null && ln -s /proc/sys/kernel/core_pattern ${bundle.rootfs}/dev/null\n`, { mode: 0o755 });
    bundle.spec.hooks = { createContainer: [{ path: hook }] };
    bundle.save();
    const id = uniqueId('devnull');
    let r;
    try {
      r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
      const now = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
      if (now !== corePattern) writeFileSync('/proc/sys/kernel/core_pattern', corePattern); // undo a successful attack
      expect(now, 'the host core_pattern was written through the mask').toBe(corePattern);
    }
    if (r.code === 0) {
      expect(r.stdout).toMatch(/^character special file 1:3$/m);
      expect(r.stdout).toMatch(/^0$/m);
      expect(r.stdout).toMatch(/^keys=0$/m); // a write to the null device succeeds and goes nowhere
    } else {
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/dev\/null/);
    }
  });

  it('/dev/null as a symlink in a rootfs without a /dev tmpfs: create refuses it', async () => {
    const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const bundle = makeBundle({
      args: ['sh', '-c', 'echo "|/evil" > /proc/keys; echo keys=$?'],
      mutate: (spec) => {
        spec.mounts = spec.mounts!.filter((m) => !m.destination.startsWith('/dev'));
        spec.linux!.maskedPaths = ['/proc/keys'];
      },
    });
    mkdirSync(join(bundle.rootfs, 'dev'), { recursive: true });
    rmSync(join(bundle.rootfs, 'dev', 'null'), { force: true });
    symlinkSync('/proc/sys/kernel/core_pattern', join(bundle.rootfs, 'dev', 'null'));
    const id = uniqueId('devnull');
    const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/dev\/null/);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(corePattern);
  });

  it('/dev/null as a symlink with a /dev tmpfs is replaced by the real device', async () => {
    // The /dev tmpfs hides the rootfs's /dev: the symlink never matters.
    const bundle = makeBundle({
      args: ['stat', '-c', '%F %t:%T', '/dev/null', '/proc/keys'],
      mutate: (spec) => void (spec.linux!.maskedPaths = ['/proc/keys']),
    });
    mkdirSync(join(bundle.rootfs, 'dev'), { recursive: true });
    rmSync(join(bundle.rootfs, 'dev', 'null'), { force: true });
    symlinkSync('/proc/sys/kernel/core_pattern', join(bundle.rootfs, 'dev', 'null'));
    const id = uniqueId('devnull');
    const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['character special file 1:3', 'character special file 1:3']);
  });
});

describe('CVE-2025-52881 class: sysctl writes go to the real procfs', () => {
  for (const trick of ['a /proc symlink in the rootfs', 'a tmpfs at /proc/sys'] as const) {
    it(`with ${trick}`, async () => {
      const mutate = (spec: Spec) => {
        spec.root!.readonly = false;
        spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
        if (trick === 'a tmpfs at /proc/sys') spec.mounts!.push({ destination: '/proc/sys', type: 'tmpfs', source: 'tmpfs', options: [] });
      };
      const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
      const hostShmmni = readFileSync('/proc/sys/kernel/shmmni', 'utf8');
      const bundle = makeBundle({ args: ['sleep', '30'], mutate });
      if (trick === 'a /proc symlink in the rootfs') {
        rmSync(join(bundle.rootfs, 'proc'), { recursive: true, force: true });
        mkdirSync(join(bundle.rootfs, 'fakeproc', 'sys', 'net', 'ipv4'), { recursive: true });
        writeFileSync(join(bundle.rootfs, 'fakeproc', 'sys', 'net', 'ipv4', 'ip_forward'), 'fake\n');
        symlinkSync('/fakeproc', join(bundle.rootfs, 'proc'));
      }
      const id = uniqueId('sysctl');
      try {
        const c = await tsrunc(['create', '--bundle', bundle.dir, id]);
        expect(c.stderr).toBe('');
        const pid = JSON.parse((await tsrunc(['state', id])).stdout).pid as number;
        // Read through the container's namespaces from the host's own /proc.
        const fwd = execFileSync('nsenter', ['-t', String(pid), '-n', 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
        const shm = execFileSync('nsenter', ['-t', String(pid), '-i', 'cat', '/proc/sys/kernel/shmmni'], { encoding: 'utf8' });
        expect(fwd.trim()).toBe('1');
        expect(shm.trim()).toBe('1234');
        if (trick === 'a /proc symlink in the rootfs') {
          // proc was mounted at the symlink's target inside the rootfs; the planted file was not written.
          const inside = await tsrunc(['exec', id, 'cat', '/fakeproc/sys/net/ipv4/ip_forward']);
          expect(inside.stdout.trim()).toBe('1'); // the real procfs, mounted over /fakeproc
        } else {
          const inside = await tsrunc(['exec', id, 'ls', '-A', '/proc/sys']);
          expect(inside.stdout.trim()).toBe(''); // nothing was written into the tmpfs
        }
      } finally {
        await tsrunc(['delete', '--force', id]);
        bundle.remove();
      }
      // The host's values are untouched.
      expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(hostForward);
      expect(readFileSync('/proc/sys/kernel/shmmni', 'utf8')).toBe(hostShmmni);
    });
  }
});

describe('CVE-2025-52565 class: /dev/console of a terminal container', () => {
  // bind_console() opens the target with O_NOFOLLOW: a link is refused, never followed onto core_pattern.
  it('a /dev/console symlink (no /dev tmpfs) is refused, never followed', async () => {
    const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const bundle = makeBundle({
      args: ['sh', '-c', 'stat -c "%F %t:%T" /dev/console /proc/sys/kernel/core_pattern'],
      mutate: (spec) => {
        spec.process!.terminal = true;
        // /dev is the rootfs's own directory: the container image controls what is there.
        spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev');
      },
    });
    mkdirSync(join(bundle.rootfs, 'dev'), { recursive: true });
    rmSync(join(bundle.rootfs, 'dev', 'console'), { force: true });
    symlinkSync('/proc/sys/kernel/core_pattern', join(bundle.rootfs, 'dev', 'console'));
    const id = uniqueId('console');
    const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
    expect(r.stdout, 'the pty must not land on the link target').not.toMatch(/core_pattern|character special file 136:/);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('/dev/console');
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(corePattern);
  });
});
