// Issue 9 conformance, process and namespaces, as the container sees them: HOME from the container's
// /etc/passwd (create and exec), lo up in a new network namespace, the process group of an exec'd process,
// exec with a missing --cwd, and the UTS sysctls.
import { existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, runContainer, sh, state, tsrunc, tsruncOk, uniqueId, type Bundle } from '../helpers';

describe('HOME', () => {
  it.each([
    [0, '/root'],
    [1000, '/home/user'],
    [4242, '/'],
  ])('uid %i without HOME in process.env gets %s from the container /etc/passwd', async (uid, home) => {
    const r = await runContainer((s) => {
      s.process!.user = { uid, gid: uid };
      s.process!.env = ['PATH=/bin'];
    }, sh('echo "HOME=$HOME"; env | grep -c ^HOME='));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`HOME=${home}\n1\n`);
  });

  it('a HOME in process.env is kept', async () => {
    const r = await runContainer((s) => {
      s.process!.env = ['PATH=/bin', 'HOME=/given'];
    }, sh('echo "$HOME"; env | grep -c ^HOME='));
    expect(r.stdout).toBe('/given\n1\n');
  });

  it('/etc/passwd is read inside the rootfs: an absolute symlink resolves in the container, not on the host', async () => {
    const bundle = makeBundle({
      args: sh('echo "$HOME"'),
      mutate: (s) => {
        s.process!.user = { uid: 1000, gid: 1000 };
        s.process!.env = ['PATH=/bin'];
      },
    });
    rmSync(join(bundle.rootfs, 'etc/passwd'));
    writeFileSync(join(bundle.rootfs, 'etc/tsrunc-alt-passwd'), 'user:x:1000:1000::/inside:/bin/sh\n');
    symlinkSync('/etc/tsrunc-alt-passwd', join(bundle.rootfs, 'etc/passwd'));
    const id = uniqueId('confh');
    try {
      const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('/inside\n');
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });
});

describe('loopback', () => {
  it('lo is up in a new network namespace and carries traffic', async () => {
    const r = await runContainer(
      undefined,
      // The client retries until the listener is there (polling, generous bound); wait for the listener's end.
      sh(
        'cat /sys/class/net/lo/flags; nc -l -p 4321 > /dev/shm/got & L=$!; i=0; ' +
          'until echo over-lo | nc 127.0.0.1 4321 2>/dev/null; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; wait $L; cat /dev/shm/got',
      ),
    );
    expect(r.stderr).toBe('');
    const [flags, ...rest] = r.stdout.trim().split('\n');
    expect(Number(flags) & 1).toBe(1); // IFF_UP
    expect(rest).toContain('over-lo');
  });
});

describe('exec', () => {
  let bundle: Bundle;
  const id = uniqueId('confx');
  beforeAll(async () => {
    bundle = makeBundle({ args: ['sleep', '100000'], mutate: (s) => {
        s.process!.env = ['PATH=/bin'];
      },
    });
    await tsruncOk(['run', '--detach', '--bundle', bundle.dir, id]);
  });
  afterAll(async () => {
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
  });

  it('the exec\'d process leads its own process group inside the container pid namespace (getpgrp() != 0)', async () => {
    const out = await tsruncOk(['exec', id, 'sh', '-c', 'set -- $(cat /proc/self/stat); echo "$1 $5 $6"']);
    const [pid, pgrp, sid] = out.trim().split(' ').map(Number);
    expect(pgrp).not.toBe(0);
    expect(sid).not.toBe(0);
    expect(pid).toBeGreaterThan(1);
  });

  it('HOME comes from the container /etc/passwd for the exec user too', async () => {
    expect(await tsruncOk(['exec', id, 'sh', '-c', 'echo $HOME'])).toBe('/root\n');
    expect(await tsruncOk(['exec', '--user', '1000:1000', id, 'sh', '-c', 'echo $HOME'])).toBe('/home/user\n');
    expect(await tsruncOk(['exec', '--env', 'HOME=/h', id, 'sh', '-c', 'echo $HOME'])).toBe('/h\n');
  });

  it('a --cwd that does not exist fails with chdir\'s ENOENT and is not created', async () => {
    const r = await tsrunc(['exec', '--cwd', '/no/such/dir', id, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrunc: exec: process\.cwd: chdir \/no\/such\/dir: no such file or directory$/m);
    expect(existsSync(join(bundle.rootfs, 'no'))).toBe(false);
    expect((await state(id)).status).toBe('running');
  });
});

describe('UTS sysctls (as runc 1.1.5)', () => {
  it('kernel.hostname is refused: the hostname field sets it', async () => {
    const r = await runContainer((s) => {
      s.linux!.sysctl = { 'kernel.hostname': 'via-sysctl' };
    }, ['hostname']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrunc: run: linux\.sysctl\["kernel\.hostname"\]: .*hostname/m);
  });

  it('kernel.domainname is set in the container uts namespace', async () => {
    const r = await runContainer((s) => {
      s.linux!.sysctl = { 'kernel.domainname': 'example.test' };
    }, sh('cat /proc/sys/kernel/domainname'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('example.test\n');
  });
});
