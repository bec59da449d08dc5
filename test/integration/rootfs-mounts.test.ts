// Rootfs and mounts as the container sees them: /proc/self/mountinfo, writes that fail, files that show.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, runId, tsrunc, uniqueId, type Spec, type TsruncResult } from '../helpers';
import { removeTree } from '../helpers/fs';
import { readMountinfo } from '../setup/leaks';

const hostDirs: string[] = [];
const hostMounts: string[] = [];
afterAll(() => {
  for (const m of hostMounts.reverse()) execFileSync('umount', [m]);
  for (const d of hostDirs) removeTree(d);
});

function hostDir(): string {
  const d = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-host-`));
  hostDirs.push(d);
  return d;
}

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

function sh(script: string): string[] {
  return ['sh', '-c', script];
}

/** `tsrunc run [flags] ID` of a fresh bundle; the container is deleted and the bundle removed after. */
async function run(mutate: ((s: Spec) => void) | undefined, cmd: string[], flags: string[] = [], prepare?: (rootfs: string) => void): Promise<TsruncResult> {
  const bundle = makeBundle({ args: cmd, mutate });
  prepare?.(bundle.rootfs);
  const id = uniqueId('mnt');
  try {
    return await tsrunc(['run', ...flags, '--bundle', bundle.dir, id]);
  } finally {
    await tsrunc(['delete', '--force', id]).catch(() => undefined);
    bundle.remove();
  }
}

async function runOk(mutate: ((s: Spec) => void) | undefined, cmd: string[], flags: string[] = [], prepare?: (rootfs: string) => void): Promise<string> {
  const r = await run(mutate, cmd, flags, prepare);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

interface SeenMount {
  mountPoint: string;
  mountOpts: string[];
  optional: string[];
  fsType: string;
  superOpts: string[];
}

function parseMountinfo(text: string): SeenMount[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split(' ');
      const dash = f.indexOf('-');
      return {
        mountPoint: f[4].replace(/\\040/g, ' '),
        mountOpts: f[5].split(','),
        optional: f.slice(6, dash),
        fsType: f[dash + 1],
        superOpts: f[dash + 3].split(','),
      };
    });
}

/** The last (topmost) mount at `point` in the container's mountinfo printed first in `out`. */
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
      const out = await runOk(undefined, sh('ls /; echo ---; cat /proc/self/mountinfo; echo ---; cat /proc/1/root/etc/passwd | head -1'), flags);
      const [ls, mountinfo, passwd] = out.split('---\n');
      expect(ls.trim().split('\n')).toEqual(expect.arrayContaining(['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']));
      const mounts = parseMountinfo(mountinfo);
      expect(mounts[0].mountPoint).toBe('/');
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
      const mounts = parseMountinfo(await runOk(undefined, ['cat', '/proc/self/mountinfo'], flags));
      expect(mounts[0].mountOpts).toContain('ro');
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
  it('a masked file reads empty, a masked dir is empty; the rootfs keeps its content', async () => {
    const out = await runOk(
      (s) => {
        s.linux!.maskedPaths = ['/etc/secret', '/secretdir', '/does/not/exist'];
      },
      sh('wc -c < /etc/secret; ls -A /secretdir | wc -l; echo x > /secretdir/new 2>&1; echo "w=$?"'),
      [],
      (r) => {
        writeFileSync(join(r, 'etc/secret'), 'password\n');
        mkdirSync(join(r, 'secretdir'));
        writeFileSync(join(r, 'secretdir/key'), 'k');
      },
    );
    const lines = out.trim().split('\n');
    expect(lines[0].trim()).toBe('0');
    expect(lines[1].trim()).toBe('0');
    expect(lines.at(-1)).toBe('w=1');
  });

  it('the default masked /proc files read empty', async () => {
    const out = await runOk(undefined, sh('cat /proc/timer_list | wc -c; cat /proc/keys | wc -c; ls /sys/firmware | wc -l'));
    expect(out.trim().split('\n').map((s) => s.trim())).toEqual(['0', '0', '0']);
  });

  it('readonlyPaths are read-only, the rest stays writable', async () => {
    const out = await runOk(
      (s) => {
        s.root!.readonly = false;
        s.linux!.readonlyPaths = ['/rodir', '/proc/sys'];
      },
      sh('cat /rodir/f; touch /rodir/g 2>&1; echo "ro=$?"; touch /rwdir/g; echo "rw=$?"; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1; echo "sys=$?"'),
      [],
      (r) => {
        mkdirSync(join(r, 'rodir'));
        writeFileSync(join(r, 'rodir/f'), 'kept\n');
        mkdirSync(join(r, 'rwdir'));
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

describe('mount targets stay inside the rootfs (CVE-2021-30465 class)', () => {
  for (const kind of ['absolute', 'relative'] as const) {
    it(`a ${kind} symlink out of the rootfs: nothing is created or mounted on the host`, async () => {
      const target = hostDir();
      writeFileSync(join(target, 'keep'), 'host\n');
      const before = readdirSync(target).sort();
      const mountsBefore = readMountinfo().map((m) => m.line);
      const r = await run(
        (s) => {
          s.mounts!.push({ destination: '/evil/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          s.mounts!.push(bindMount('/etc', '/evil/y', ['bind', 'ro']));
        },
        sh('touch /evil/x/inside 2>/dev/null; grep -c " /evil/x " /proc/self/mountinfo'),
        [],
        (rootfs) => {
          symlinkSync(kind === 'absolute' ? target : '../../../../../../../../..' + target, join(rootfs, 'evil'));
        },
      );
      // Either refused or mounted under the rootfs: the host dir and mount table are untouched either way.
      expect(readdirSync(target).sort()).toEqual(before);
      expect(readMountinfo().map((m) => m.line)).toEqual(mountsBefore);
      if (r.code === 0) expect(r.stdout.trim()).toBe('1');
      else expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
  it('a symlink brought in by an earlier bind mount is resolved inside the rootfs too', async () => {
    // The host dir bound at /m holds `link -> <target on the host>`; a later mount goes to /m/link/x.
    const target = hostDir();
    writeFileSync(join(target, 'keep'), 'host\n');
    const carrier = hostDir();
    symlinkSync(target, join(carrier, 'link'));
    const mountsBefore = readMountinfo().map((m) => m.line);
    const r = await run(
      (s) => {
        s.mounts!.push(bindMount(carrier, '/m', ['rbind']));
        s.mounts!.push({ destination: '/m/link/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      },
      ['true'],
    );
    expect(readdirSync(target)).toEqual(['keep']);
    expect(readMountinfo().map((m) => m.line)).toEqual(mountsBefore);
    if (r.code !== 0) expect(r.stderr.trim().split('\n')).toHaveLength(1);
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
