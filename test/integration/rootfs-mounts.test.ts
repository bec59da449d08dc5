// Rootfs and mounts as the container sees them: /proc/self/mountinfo, writes that fail, files that show.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostDir, makeBundle, parseMountinfo, runContainer as run, runOk, sh, tsrunc, uniqueId, type MountLine, type Spec } from '../helpers';

const hostMounts: string[] = [];
afterAll(() => {
  for (const m of hostMounts.reverse()) execFileSync('umount', [m]);
});

/** A host dir with a file and a tmpfs submount `sub` holding another file. */
function hostDirWithSubmount(): string {
  const d = hostDir();
  writeFileSync(join(d, 'top.txt'), 'top\n');
  mkdirSync(join(d, 'sub'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tsrunc-test-sub', join(d, 'sub')]);
  hostMounts.push(join(d, 'sub'));
  writeFileSync(join(d, 'sub', 'inner.txt'), 'inner\n');
  return d;
}

type SeenMount = MountLine;

/** The last (topmost) mount at `point` in the container's mountinfo. */
function mountAt(mounts: SeenMount[], point: string): SeenMount {
  const m = mounts.filter((x) => x.mountPoint === point).at(-1);
  if (!m) throw new Error(`no mount at ${point}: ${mounts.map((x) => x.mountPoint).join(' ')}`);
  return m;
}

const writable = (s: Spec) => {
  s.root!.readonly = false;
};

function bindMount(source: string, destination: string, options: string[]) {
  return { destination, type: 'bind', source, options };
}

describe('root filesystem', () => {
  for (const flags of [[], ['--no-pivot']]) {
    it(`${flags.length ? '--no-pivot (MS_MOVE + chroot)' : 'pivot_root'}: / is the bundle rootfs and no host mount is visible`, async () => {
      const out = await runOk(undefined, sh('ls /; echo ---; cat /proc/self/mountinfo; echo ---; cat /proc/1/root/etc/passwd | head -1'), { flags });
      const [ls, mountinfo, passwd] = out.split('---\n');
      expect(ls.trim().split('\n')).toEqual(expect.arrayContaining(['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']));
      const mounts = parseMountinfo(mountinfo);
      expect(mounts[0]!.mountPoint).toBe('/');
      // Only the container's own mounts (the default spec's, masked and read-only paths): no host mount.
      const spec = makeBundle().spec;
      const allowed = new Set(['/', ...spec.mounts!.map((m) => m.destination), ...spec.linux!.maskedPaths!, ...spec.linux!.readonlyPaths!]);
      expect(mounts.map((m) => m.mountPoint).filter((p) => !allowed.has(p))).toEqual([]);
      expect(mounts.map((m) => m.mountPoint)).toEqual(expect.arrayContaining(['/proc', '/dev', '/dev/pts', '/sys/fs/cgroup']));
      expect(passwd).toBe('root:x:0:0:root:/root:/bin/sh\n');
    });
  }

  it('root.readonly: writing to / fails with EROFS; without it the write lands in the rootfs', async () => {
    const ro = await run(undefined, sh('touch /newfile'));
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toMatch(/Read-only file system/);

    const out = await runOk(writable, sh('echo data > /newfile && cat /newfile'));
    expect(out).toBe('data\n');
  });

  it('root.readonly shows ro on the root mount, and --no-pivot too', async () => {
    for (const flags of [[], ['--no-pivot']]) {
      const mounts = parseMountinfo(await runOk(undefined, ['cat', '/proc/self/mountinfo'], { flags }));
      expect(mounts[0]!.mountOpts).toContain('ro');
    }
  });

  for (const [propagation, tag] of [['shared', /^shared:\d+$/], ['unbindable', /^unbindable$/], ['private', undefined]] as const) {
    it(`rootfsPropagation ${propagation}`, async () => {
      const mounts = parseMountinfo(
        await runOk((s) => void (s.linux!.rootfsPropagation = propagation), ['cat', '/proc/self/mountinfo']),
      );
      const root = mountAt(mounts, '/');
      if (tag) expect(root.optional.some((o) => tag.test(o)), root.optional.join(' ')).toBe(true);
      else expect(root.optional).toEqual([]);
    });
  }
});

describe('filesystem mounts', () => {
  it('proc, sysfs, devpts, mqueue and cgroup2 of the default config', async () => {
    const mounts = parseMountinfo(await runOk(undefined, ['cat', '/proc/self/mountinfo']));
    expect(mountAt(mounts, '/proc').fsType).toBe('proc');
    expect(mountAt(mounts, '/sys').fsType).toBe('sysfs');
    expect(mountAt(mounts, '/sys').mountOpts).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    const pts = mountAt(mounts, '/dev/pts');
    expect(pts.fsType).toBe('devpts');
    expect(pts.superOpts).toEqual(expect.arrayContaining(['gid=5', 'mode=620', 'ptmxmode=666']));
    expect(mountAt(mounts, '/dev/mqueue').fsType).toBe('mqueue');
    const cg = mountAt(mounts, '/sys/fs/cgroup');
    expect(cg.fsType).toBe('cgroup2');
    expect(cg.mountOpts).toContain('ro');
    expect(mountAt(mounts, '/dev').superOpts).toEqual(expect.arrayContaining(['size=65536k', 'mode=755']));
  });

  it('tmpfs with size and mode, at a destination created when missing', async () => {
    const out = await runOk(
      (s) => {
        s.mounts!.push({ destination: '/new/deep/data', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=750', 'nodev'] });
      },
      sh('cat /proc/self/mountinfo; echo ---; stat -c %a /new/deep/data; echo x > /new/deep/data/f && cat /new/deep/data/f'),
    );
    const [mountinfo, rest] = out.split('---\n');
    const data = mountAt(parseMountinfo(mountinfo), '/new/deep/data');
    expect(data.fsType).toBe('tmpfs');
    expect(data.superOpts).toEqual(expect.arrayContaining(['size=1024k', 'mode=750']));
    expect(data.mountOpts).toContain('nodev');
    expect(rest).toBe('750\nx\n');
  });

  it("a second proc mount shows the container's pid namespace", async () => {
    const out = await runOk(
      (s) => void s.mounts!.push({ destination: '/proc2', type: 'proc', source: 'proc' }),
      sh('cat /proc2/1/cmdline | tr "\\0" " "'),
    );
    expect(out).toBe('sh -c cat /proc2/1/cmdline | tr "\\0" " " ');
  });
});

describe('bind mounts', () => {
  it('binds a host dir and a single host file; missing destinations are created', async () => {
    const dir = hostDir();
    writeFileSync(join(dir, 'a.txt'), 'from host\n');
    const file = join(hostDir(), 'single');
    writeFileSync(file, 'just one file\n');
    const out = await runOk(
      (s) => {
        s.mounts!.push(bindMount(dir, '/mnt/a/b', ['bind']));
        s.mounts!.push(bindMount(file, '/etc/extra/single.conf', ['bind', 'ro']));
      },
      sh('cat /mnt/a/b/a.txt /etc/extra/single.conf; echo written > /mnt/a/b/new.txt; ls -l /etc/extra/single.conf | cut -c1'),
    );
    expect(out).toBe('from host\njust one file\n-\n');
    expect(readFileSync(join(dir, 'new.txt'), 'utf8')).toBe('written\n');
  });

  it('bind leaves out submounts of the source, rbind brings them', async () => {
    const dir = hostDirWithSubmount();
    const out = await runOk(
      (s) => {
        s.mounts!.push(bindMount(dir, '/b', ['bind']));
        s.mounts!.push(bindMount(dir, '/rb', ['rbind']));
      },
      sh('ls /b/sub; echo ---; cat /rb/sub/inner.txt /b/top.txt'),
    );
    expect(out).toBe('---\ninner\ntop\n');
  });

  it('ro, nosuid, nodev, noexec on a bind: in mountinfo and by behaviour', async () => {
    const dir = hostDir();
    writeFileSync(join(dir, 'script'), '#!/bin/sh\necho ran\n');
    chmodSync(join(dir, 'script'), 0o755);
    const out = await runOk(
      (s) => {
        s.mounts!.push(bindMount(dir, '/locked', ['bind', 'ro', 'nosuid', 'nodev', 'noexec']));
        s.mounts!.push(bindMount(dir, '/open', ['bind', 'rw']));
      },
      sh(
        'cat /proc/self/mountinfo; echo ---; /open/script; /locked/script; echo "exec=$?"; ' +
          'touch /locked/x 2>&1; echo "touch=$?"; touch /open/y; echo "open=$?"',
      ),
    );
    const [mountinfo, rest] = out.split('---\n');
    const mounts = parseMountinfo(mountinfo);
    expect(mountAt(mounts, '/locked').mountOpts).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    expect(mountAt(mounts, '/open').mountOpts).toContain('rw');
    expect(mountAt(mounts, '/open').mountOpts).not.toContain('noexec');
    const lines = rest.trim().split('\n');
    expect(lines[0]).toBe('ran');
    expect(lines[1]).toBe('exec=126');
    expect(lines[2]).toMatch(/Read-only file system/);
    expect(lines.slice(3)).toEqual(['touch=1', 'open=0']);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(existsSync(join(dir, 'y'))).toBe(true);
  });

  it('rro makes submounts of the source read-only too', async () => {
    const dir = hostDirWithSubmount();
    const r = await run(
      (s) => void s.mounts!.push(bindMount(dir, '/r', ['rbind', 'rro'])),
      sh('cat /r/sub/inner.txt; touch /r/sub/new 2>&1; echo "sub=$?"; touch /r/new 2>&1; echo "top=$?"; grep " /r/sub " /proc/self/mountinfo'),
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('inner');
    expect(lines[1]).toMatch(/Read-only file system/);
    expect(lines[2]).toBe('sub=1');
    expect(lines[3]).toMatch(/Read-only file system/);
    expect(lines[4]).toBe('top=1');
    expect(parseMountinfo(lines[5])[0].mountOpts).toContain('ro');
    expect(existsSync(join(dir, 'sub', 'new'))).toBe(false);
  });

  it('a bind mount propagation option (rprivate / rshared) shows in mountinfo', async () => {
    const dir = hostDir();
    const mounts = parseMountinfo(
      await runOk(
        (s) => {
          s.mounts!.push(bindMount(dir, '/shared', ['rbind', 'rshared']));
          s.mounts!.push(bindMount(dir, '/private', ['rbind', 'rprivate']));
        },
        ['cat', '/proc/self/mountinfo'],
      ),
    );
    // runc shows `shared:N` here (checked on this host).
    expect(mountAt(mounts, '/shared').optional.join(' ')).toMatch(/^shared:\d+$/);
    expect(mountAt(mounts, '/private').optional).toEqual([]);
  });
});

describe('maskedPaths and readonlyPaths', () => {
  it('a masked file reads empty, a masked dir is empty and read-only', async () => {
    // A writable root: a failed write in the masked dir must come from the mask, not from root.readonly.
    const out = await runOk(
      (s) => {
        s.root!.readonly = false;
        s.linux!.maskedPaths = ['/etc/secret', '/secretdir', '/does/not/exist'];
      },
      sh('stat -c "%F %t:%T" /etc/secret; wc -c < /etc/secret; ls -A /secretdir | wc -l; echo x > /secretdir/new 2>&1; echo "w=$?"; echo x > /plain && echo plain=ok'),
      {
        prepare: (r) => {
          writeFileSync(join(r, 'etc/secret'), 'password\n');
          mkdirSync(join(r, 'secretdir'));
          writeFileSync(join(r, 'secretdir/key'), 'k');
        },
      },
    );
    const lines = out.trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('character special file 1:3'); // /dev/null bound over the file
    expect(lines[1]).toBe('0');
    expect(lines[2]).toBe('0');
    expect(lines).toContain('w=1');
    expect(lines.at(-1)).toBe('plain=ok');
  });

  it('the default masked /proc files are the null device, /sys/firmware an empty read-only tmpfs', async () => {
    // Only meaningful where the host files have content: check it, then that the container sees the mask.
    expect(readFileSync('/proc/keys', 'utf8').length, 'host /proc/keys').toBeGreaterThan(0);
    expect(readFileSync('/proc/timer_list', 'utf8').length, 'host /proc/timer_list').toBeGreaterThan(0);
    expect(readdirSync('/sys/firmware').length, 'host /sys/firmware').toBeGreaterThan(0);
    const out = await runOk(undefined, sh('stat -c "%F %t:%T" /proc/timer_list /proc/keys; wc -c < /proc/keys; ls -A /sys/firmware | wc -l; grep " /sys/firmware " /proc/self/mountinfo'));
    const lines = out.trim().split('\n').map((l) => l.trim());
    expect(lines.slice(0, 4)).toEqual(['character special file 1:3', 'character special file 1:3', '0', '0']);
    const fw = parseMountinfo(lines.slice(4).join('\n')).at(-1)!;
    expect(fw.fsType).toBe('tmpfs');
    expect(fw.mountOpts).toContain('ro');
  });

  it('readonlyPaths are read-only, the rest stays writable', async () => {
    const out = await runOk(
      (s) => {
        s.root!.readonly = false;
        s.linux!.readonlyPaths = ['/rodir', '/proc/sys'];
      },
      sh('cat /rodir/f; touch /rodir/g 2>&1; echo "ro=$?"; touch /rwdir/g; echo "rw=$?"; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1; echo "sys=$?"'),
      {
        prepare: (r) => {
          mkdirSync(join(r, 'rodir'));
          writeFileSync(join(r, 'rodir/f'), 'kept\n');
          mkdirSync(join(r, 'rwdir'));
        },
      },
    );
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('kept');
    expect(lines[1]).toMatch(/Read-only file system/);
    expect(lines[2]).toBe('ro=1');
    expect(lines[3]).toBe('rw=0');
    expect(lines[4]).toMatch(/Read-only file system/);
    expect(lines[5]).toBe('sys=1');
  });
});

describe('relative mount destinations', () => {
  it('a relative destination is taken relative to / (config.md)', async () => {
    const bundle = makeBundle({
      args: ['sh', '-c', 'grep " /relative/tmp " /proc/self/mountinfo | cut -d" " -f5,9'],
      mutate: (s) => void s.mounts!.push({ destination: 'relative/tmp', type: 'tmpfs', source: 'tmpfs' }),
    });
    const r = await tsrunc(['run', '--bundle', bundle.dir, uniqueId('rel')]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('/relative/tmp tmpfs');
  });
});
