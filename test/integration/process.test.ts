// process.* and process-level linux.* settings as the container process sees them. Capabilities are in
// security-caps, rlimits/oomScoreAdj/umask/noNewPrivileges and the rest in security-process.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runContainer, runOk, sh, statusField } from '../helpers';

describe('args, env, cwd', () => {
  it('args reach the program intact (spaces, globs, empty strings)', async () => {
    const out = await runOk(undefined, ['sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'argv0', 'a b', '*', '', '$HOME']);
    expect(out).toBe('[a b]\n[*]\n[]\n[$HOME]\n');
  });

  it('env is exactly the config env, nothing from the host', async () => {
    const env = ['PATH=/bin:/sbin', 'FOO=bar baz', 'EMPTY=', 'MULTI=a=b=c'];
    const out = await runOk((s) => void (s.process!.env = env), ['env']);
    const seen = out.trim().split('\n');
    expect(seen).toEqual(expect.arrayContaining(env));
    // runc adds HOME from /etc/passwd when the config has none; nothing else may appear.
    expect(seen.filter((l) => !env.includes(l) && !l.startsWith('HOME='))).toEqual([]);
  });

  it('cwd is the config one, created when missing (also under a read-only root)', async () => {
    // runc creates it before the read-only remount (checked on this host: runc prints /work/deep/dir).
    const out = await runOk((s) => void (s.process!.cwd = '/work/deep/dir'), sh('pwd; stat -c %F .'));
    expect(out).toBe('/work/deep/dir\ndirectory\n');
  });

  it('cwd is created when missing (writable root)', async () => {
    const out = await runOk(
      (s) => {
        s.root!.readonly = false;
        s.process!.cwd = '/made/here';
      },
      ['pwd'],
    );
    expect(out).toBe('/made/here\n');
  });

  it('no host fd or cwd leaks into the container', async () => {
    // ls as the container's process itself (exec): a shell would show its own transient fds.
    const out = await runOk(undefined, sh('readlink /proc/self/cwd; exec ls -l /proc/self/fd'));
    const [cwd, ...lines] = out.trim().split('\n');
    expect(cwd).toBe('/');
    const fds = Object.fromEntries(lines.filter((l) => l.includes(' -> ')).map((l) => l.replace(/.* (\d+) -> /, '$1 ').split(' ')));
    // 0-2 and nothing else (ls's own handle on the directory it lists is gone before it reads links).
    expect(Object.keys(fds).sort()).toEqual(['0', '1', '2']);
  });
});

describe('user', () => {
  it('uid, gid and additionalGids: id and /proc/self/status agree', async () => {
    const out = await runOk(
      (s) => void (s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534] }),
      sh('id; cat /proc/self/status'),
    );
    const [idLine, ...rest] = out.split('\n');
    expect(idLine).toMatch(/^uid=1000\(user\) gid=1000\(user\) groups=/);
    const status = rest.join('\n');
    expect(statusField(status, 'Uid')).toBe('1000\t1000\t1000\t1000');
    expect(statusField(status, 'Gid')).toBe('1000\t1000\t1000\t1000');
    expect(statusField(status, 'Groups').split(' ').map(Number).sort((a, b) => a - b)).toEqual([5, 65534]);
  });

  it('root without additionalGids has no supplementary groups from the host', async () => {
    const out = await runOk(undefined, ['cat', '/proc/self/status']);
    expect(statusField(out, 'Groups')).toBe('');
    expect(statusField(out, 'Uid')).toBe('0\t0\t0\t0');
  });

});

describe('limits and kernel settings', () => {
  it('sysctl: kernel.shmmax (new ipc ns) and net.ipv4.ip_forward (new net ns); the host keeps its values', async () => {
    const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
    const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const wanted = hostForward.trim() === '1' ? '0' : '1';
    const out = await runOk(
      (s) => void (s.linux!.sysctl = { 'kernel.shmmax': '123456789', 'net.ipv4.ip_forward': wanted }),
      sh('cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward'),
    );
    expect(out).toBe(`123456789\n${wanted}\n`);
    expect(readFileSync('/proc/sys/kernel/shmmax', 'utf8')).toBe(hostShmmax);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(hostForward);
  });

  it('hostname', async () => {
    expect(await runOk((s) => void (s.hostname = 'proc-test'), ['hostname'])).toBe('proc-test\n');
  });
});

describe('PATH lookup of args[0]', () => {
  it('finds a program that exists only in the container, with the config PATH', async () => {
    const r = await runContainer(
      (s) => void (s.process!.env = ['PATH=/opt/only/bin:/bin']),
      ['only-in-container', 'arg1'],
      {
        prepare: (rootfs) => {
          mkdirSync(join(rootfs, 'opt/only/bin'), { recursive: true });
          writeFileSync(join(rootfs, 'opt/only/bin/only-in-container'), '#!/bin/sh\necho "found $0 $1"\n');
          chmodSync(join(rootfs, 'opt/only/bin/only-in-container'), 0o755);
        },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('found /opt/only/bin/only-in-container arg1\n');
  });

  it('skips a non-executable match and takes the next PATH entry', async () => {
    const r = await runContainer(
      (s) => void (s.process!.env = ['PATH=/first:/second:/bin']),
      ['tool'],
      {
        prepare: (rootfs) => {
          mkdirSync(join(rootfs, 'first'));
          mkdirSync(join(rootfs, 'second'));
          writeFileSync(join(rootfs, 'first/tool'), 'not executable\n');
          writeFileSync(join(rootfs, 'second/tool'), '#!/bin/sh\necho second\n');
          chmodSync(join(rootfs, 'second/tool'), 0o755);
        },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('second\n');
  });

  it('a program only on the host PATH is not found in the container', async () => {
    // node is on the host PATH (we are running it), never in the busybox rootfs.
    const r = await runContainer(undefined, ['node', '-e', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/node/);
  });
});
