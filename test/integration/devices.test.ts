// Device nodes as the container sees them: the default set, the /dev symlinks, linux.devices.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileDeviceFilter, defaultAllowedDevices } from '../../src/runtime/cgroups/devices';
import { REPO, runContainer, runOk, sh, type Spec } from '../helpers';

interface Node {
  type: string;
  major: number;
  minor: number;
  mode: string;
  uid: number;
  gid: number;
}

/** busybox stat: name, file type, major and minor in hex, octal mode, owner. */
const STAT = "stat -c '%n|%F|%t|%T|%a|%u|%g'";

function parseStat(out: string): Record<string, Node> {
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => {
        const [name, type, major, minor, mode, uid, gid] = l.split('|');
        return [name, { type, major: parseInt(major, 16), minor: parseInt(minor, 16), mode, uid: Number(uid), gid: Number(gid) }];
      }),
  );
}

const DEFAULTS: Array<[string, number, number]> = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

describe('default devices', () => {
  it('null, zero, full, random, urandom and tty: character devices, right numbers, 0666 root', async () => {
    const nodes = parseStat(await runOk(undefined, sh(`${STAT} ${DEFAULTS.map(([p]) => p).join(' ')}`)));
    for (const [path, major, minor] of DEFAULTS) {
      expect(nodes[path], path).toEqual({ type: 'character special file', major, minor, mode: '666', uid: 0, gid: 0 });
    }
  });

  it('the devices behave: null swallows, zero gives zeros, full is full, urandom gives bytes', async () => {
    const out = await runOk(
      undefined,
      sh(
        'echo gone > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; ' +
          '(echo x > /dev/full) 2>&1; head -c 16 /dev/urandom | wc -c; head -c 8 /dev/random | wc -c',
      ),
    );
    const lines = out.trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('null-ok');
    expect(lines[1]).toBe('00 00 00 00');
    expect(lines[2]).toMatch(/No space left on device/);
    expect(lines.slice(3)).toEqual(['16', '8']);
  });

  it('/dev/ptmx points into the container devpts; /dev/fd and /dev/std{in,out,err} are the /proc/self links', async () => {
    const out = await runOk(
      undefined,
      sh('for l in ptmx fd stdin stdout stderr; do echo "$l $(readlink /dev/$l)"; done; stat -c "%F %t:%T" /dev/pts/ptmx'),
    );
    expect(out).toBe(
      ['ptmx pts/ptmx', 'fd /proc/self/fd', 'stdin /proc/self/fd/0', 'stdout /proc/self/fd/1', 'stderr /proc/self/fd/2', 'character special file 5:2', ''].join('\n'),
    );
  });

  it('/dev/stdout and /dev/stderr reach the container stdio; /dev/fd lists open fds', async () => {
    // One open of /dev/stdout for everything: a second open of the capture file would start at offset 0.
    const r = await runContainer(undefined, sh('(echo out; ls /dev/fd/ | sort -n | head -3 | tr "\\n" " ") > /dev/stdout; echo err > /dev/stderr'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('out\n0 1 2 ');
    expect(r.stderr).toBe('err\n');
  });

  it('a /dev/ptmx open gives a new pty in the container devpts', async () => {
    // busybox `script`-free check: opening ptmx creates /dev/pts/0 while the fd is open.
    const out = await runOk(undefined, sh('exec 3<>/dev/ptmx; ls /dev/pts'));
    expect(out.trim().split('\n').sort()).toEqual(['0', 'ptmx']);
  });

  it('only the container devices are in /dev, no host devices', async () => {
    const out = await runOk(undefined, sh('ls /dev'));
    expect(out.trim().split('\n').sort()).toEqual(
      ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'].sort(),
    );
  });
});

describe('linux.devices', () => {
  const custom = (s: Spec) => {
    s.linux!.devices = [
      { path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 },
      { path: '/dev/sub/dir/myzero', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 0, gid: 5 },
      { path: '/dev/myloop', type: 'b', major: 7, minor: 200, fileMode: 0o660, uid: 0, gid: 6 },
      { path: '/dev/myfifo', type: 'p', fileMode: 0o644 },
    ];
    s.linux!.resources!.devices!.push(
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
    );
  };

  it('type, major, minor, fileMode, uid and gid as configured; parents created', async () => {
    const nodes = parseStat(await runOk(custom, sh(`${STAT} /dev/mydev /dev/sub/dir/myzero /dev/myloop /dev/myfifo`)));
    expect(nodes['/dev/mydev']).toEqual({ type: 'character special file', major: 1, minor: 3, mode: '600', uid: 1000, gid: 1000 });
    expect(nodes['/dev/sub/dir/myzero']).toEqual({ type: 'character special file', major: 1, minor: 5, mode: '640', uid: 0, gid: 5 });
    expect(nodes['/dev/myloop']).toEqual({ type: 'block special file', major: 7, minor: 200, mode: '660', uid: 0, gid: 6 });
    expect(nodes['/dev/myfifo']).toMatchObject({ type: 'fifo', mode: '644', uid: 0, gid: 0 });
  });

  it('a configured device works when the cgroup allows it', async () => {
    // As uid 1000 (the owner of mydev) in group 5 (myzero's): the default capabilities have no DAC_OVERRIDE.
    const asUser = (s: Spec) => {
      custom(s);
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5] };
    };
    const out = await runOk(asUser, sh('echo data > /dev/mydev && echo wrote; head -c 3 /dev/sub/dir/myzero | od -An -tx1'));
    expect(out.trim().split('\n').map((l) => l.trim())).toEqual(['wrote', '00 00 00']);
  });

  it('the device cgroup refuses a node it does not allow (EPERM), and allows it once a rule does', async () => {
    // A block node brought in by the rootfs (not in linux.devices, whose entries are allowed rwm as in
    // runc): 7:201 is a loop minor with nothing bound, which reads as empty when the open is allowed.
    const prepare = (rootfs: string) => execFileSync('mknod', [join(rootfs, 'blk'), 'b', '7', '201']);
    const script = sh('head -c1 /blk >/dev/null; echo "read=$?"');
    const denied = await runContainer((s) => void (s.root!.readonly = false), script, { prepare });
    expect(denied.stdout.trim()).toBe('read=1');
    expect(denied.stderr).toMatch(/blk.*Operation not permitted/);
    const allowed = await runContainer((s) => void s.linux!.resources!.devices!.push({ allow: true, type: 'b', major: 7, minor: 201, access: 'r' }), script, { prepare });
    expect(allowed.stderr).toBe('');
    expect(allowed.stdout.trim()).toBe('read=0');
  });

  it('a linux.devices entry replaces the default node at the same path', async () => {
    const nodes = parseStat(
      await runOk((s) => {
        s.linux!.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 0, gid: 5 }];
      }, sh(`${STAT} /dev/null`)),
    );
    expect(nodes['/dev/null']).toEqual({ type: 'character special file', major: 1, minor: 3, mode: '620', uid: 0, gid: 5 });
  });
});

describe('device filter loading', () => {
  // The verifier gives up (EAGAIN) whenever a signal is pending: in a shim, the SIGCHLD of another
  // container's process; under --cpu-prof, every sample. The addon holds signals while it loads.
  it('loads while signals keep arriving (a profiler sampling every 10 us)', () => {
    const prog = compileDeviceFilter(defaultAllowedDevices()).toString('hex');
    const script = `
      const fs = require('node:fs');
      const { native } = require(${JSON.stringify(join(REPO, 'dist/lib/native.cjs'))});
      const prog = Buffer.from(${JSON.stringify(prog)}, 'hex');
      for (let i = 0; i < 200; i++) fs.closeSync(native().bpfProgLoadDevice(prog, 'GPL'));
      console.log('loaded 200');`;
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-test-bpf-prof-'));
    try {
      const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=10', '-e', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('loaded 200');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
