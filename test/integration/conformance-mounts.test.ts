// Issue 9 conformance, mounts and devices, as the container (or the kernel) sees them: data options on a
// bind, tmpfs modes, dangling symlink destinations, devices outside /dev, the cgroup2 fallback of a user
// namespace without a cgroup namespace, idmap without mappings, and a container without a mount namespace
// (run only inside a private mount namespace that the test makes).
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { childEnv, hostDir, makeBundle, sh, tsrunc, tsruncArgv, uniqueId, type BundleOptions, type Spec, type TsruncResult } from '../helpers';

/** `tsrunc run` of a fresh bundle; `prepare` edits its rootfs first. Deleted and removed after. */
async function run(mutate: BundleOptions['mutate'], cmd: string[], prepare?: (rootfs: string) => void): Promise<TsruncResult & { rootfs: string }> {
  const bundle = makeBundle({ args: cmd, mutate });
  prepare?.(bundle.rootfs);
  const id = uniqueId('confm');
  try {
    return { ...(await tsrunc(['run', '--bundle', bundle.dir, id])), rootfs: bundle.rootfs };
  } finally {
    await tsrunc(['delete', '--force', id]).catch(() => undefined);
    bundle.remove();
  }
}

/** Mount points (field 5 of mountinfo) the container listed, for lines matching `re`. */
function mountPoints(mountinfo: string, re: RegExp): string[] {
  return mountinfo
    .trim()
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => l.split(' ')[4]!);
}

describe('mount options that are filesystem data', () => {
  it('a bind mount with mode=755 runs, as with runc (mount(2) ignores data on a bind)', async () => {
    const src = hostDir('data');
    const r = await run((s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'mode=755', 'ro'] });
    }, sh('grep " /data " /proc/self/mountinfo | cut -d" " -f6'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^ro\b/);
  });

  it('data the kernel rejects is a create error naming the mount and the option', async () => {
    const r = await run((s) => {
      s.mounts!.push({ destination: '/bad', type: 'tmpfs', source: 'tmpfs', options: ['size=bogus'] });
    }, ['true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrunc: run: mounts\[7\]: .*size=bogus: invalid argument$/m);
  });
});

describe('tmpfs mode', () => {
  it('without mode= a tmpfs takes the mode of the directory it covers; mode= wins; a new directory gets 1777', async () => {
    const r = await run(
      (s) => {
        s.mounts!.push({ destination: '/m700', type: 'tmpfs', source: 'tmpfs' });
        s.mounts!.push({ destination: '/m2750', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
        s.mounts!.push({ destination: '/given', type: 'tmpfs', source: 'tmpfs', options: ['mode=711'] });
        s.mounts!.push({ destination: '/fresh', type: 'tmpfs', source: 'tmpfs' });
      },
      ['stat', '-c', '%n %a', '/m700', '/m2750', '/given', '/fresh'],
      (rootfs) => {
        for (const [d, mode] of [['m700', 0o700], ['m2750', 0o2750], ['given', 0o755]] as const) {
          mkdirSync(join(rootfs, d));
          chmodSync(join(rootfs, d), mode);
        }
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['/m700 700', '/m2750 2750', '/given 711', '/fresh 1777']);
  });
});

describe('dangling symlink destinations', () => {
  it('the link target is made inside the rootfs and mounted on: absolute, relative, chained, through .., and a file bind', async () => {
    const file = join(hostDir('file'), 'f');
    writeFileSync(file, 'bound\n');
    const r = await run(
      (s) => {
        s.root!.readonly = false;
        for (const d of ['/abs', '/rel', '/chain', '/dd/up']) s.mounts!.push({ destination: d, type: 'tmpfs', source: 'tmpfs' });
        s.mounts!.push({ destination: '/dfile', type: 'bind', source: file, options: ['bind'] });
      },
      sh('grep -E " /(t-abs|t-rel|t-chain|up|nodir)" /proc/self/mountinfo; cat /nodir/f'),
      (rootfs) => {
        symlinkSync('/t-abs/dir', join(rootfs, 'abs'));
        symlinkSync('t-rel/dir', join(rootfs, 'rel'));
        symlinkSync('chain2', join(rootfs, 'chain'));
        symlinkSync('/t-chain/x', join(rootfs, 'chain2'));
        mkdirSync(join(rootfs, 'dd'));
        symlinkSync('../../../../up/x', join(rootfs, 'dd/up'));
        symlinkSync('/nodir/f', join(rootfs, 'dfile'));
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(mountPoints(lines.slice(0, -1).join('\n'), /./).sort()).toEqual(['/nodir/f', '/t-abs/dir', '/t-chain/x', '/t-rel/dir', '/up/x']);
    expect(lines.at(-1)).toBe('bound');
    // Nothing was made outside the rootfs ("/up" and "/t-abs" of the host are untouched).
    expect(existsSync('/up/x') || existsSync('/t-abs')).toBe(false);
  });
});

describe('device paths', () => {
  it('a device outside /dev and one with a trailing slash are created where the config says', async () => {
    const r = await run((s) => {
      s.linux!.devices = [
        { path: '/foo-dev', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
        { path: '/dev/bar/', type: 'c', major: 1, minor: 5, fileMode: 0o640 },
      ];
    }, sh("stat -c '%n %F %t:%T %a' /foo-dev /dev/bar; echo x > /foo-dev && echo wrote"));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['/foo-dev character special file 1:3 666', '/dev/bar character special file 1:5 640', 'wrote']);
  });
});

/** A user namespace mapping the container to unprivileged host ids; the rootfs stays the host root's. */
function userns(spec: Spec): void {
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
}

async function runUserns(mutate: (s: Spec) => void, cmd: string[]): Promise<TsruncResult> {
  const bundle = makeBundle({ args: cmd, mutate });
  chmodSync(bundle.dir, 0o755);
  // The rootfs stays the host root's (unmapped inside): mount points must exist beforehand.
  mkdirSync(join(bundle.rootfs, 'data'));
  const id = uniqueId('confu');
  try {
    return await tsrunc(['run', '--bundle', bundle.dir, id]);
  } finally {
    await tsrunc(['delete', '--force', id]).catch(() => undefined);
    bundle.remove();
  }
}

describe('cgroup2 in a user namespace without a cgroup namespace', () => {
  it('the cgroup mount falls back to a read-only bind of the cgroup2 hierarchy, as runc does', async () => {
    const r = await runUserns(
      (s) => {
        userns(s);
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
      },
      sh('grep " /sys/fs/cgroup " /proc/self/mountinfo | tail -1; test -e /sys/fs/cgroup/cgroup.controllers && echo has-controllers; touch /sys/fs/cgroup/x 2>&1 | grep -c Read-only'),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [line, has, ro] = r.stdout.trim().split('\n');
    expect(line).toMatch(/ \/sys\/fs\/cgroup ro,.* - cgroup2 /);
    expect([has, ro]).toEqual(['has-controllers', '1']);
  });
});

describe('idmap and ridmap', () => {
  it('idmap without mappings in a user namespace container maps the source through the container maps', async () => {
    const src = hostDir('idmap');
    chmodSync(src, 0o777);
    writeFileSync(join(src, 'root-file'), 'r');
    writeFileSync(join(src, 'user-file'), 'u');
    chownSync(join(src, 'user-file'), 1000, 1000);
    const r = await runUserns(
      (s) => {
        userns(s);
        s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['bind', 'idmap'] });
      },
      sh('stat -c "%n %u:%g" /data/root-file /data/user-file; touch /data/made && echo made'),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Host ids show as the same ids inside (container 0 is host 200000, yet root-file is the container's root's).
    expect(r.stdout.trim().split('\n')).toEqual(['/data/root-file 0:0', '/data/user-file 1000:1000', 'made']);
    const made = statSync(join(src, 'made'));
    expect([made.uid, made.gid]).toEqual([0, 0]);
  });

  it('ridmap with mappings of its own works in a user namespace container too', async () => {
    const src = hostDir('ridmap');
    chmodSync(src, 0o755);
    writeFileSync(join(src, 'top'), 't');
    const r = await runUserns(
      (s) => {
        userns(s);
        s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ridmap'], uidMappings: [{ containerID: 0, hostID: 200005, size: 10 }], gidMappings: [{ containerID: 0, hostID: 200005, size: 10 }] });
      },
      sh('stat -c "%n %u:%g" /data/top'),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // On-disk 0 is host id 200005 through the mount, which is 5 in the container.
    expect(r.stdout.trim()).toBe('/data/top 5:5');
  });

  it('idmap without mappings in a container without a user namespace is an error naming the mount', async () => {
    const src = hostDir('idmap');
    const r = await run((s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['bind', 'idmap'] });
    }, ['true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrunc: run: mounts\[7\]\.options: .*user namespace/m);
  });
});

const exec = promisify(execFile);

/**
 * Runs `script` in a new private mount namespace (never the host's) with the shell function T running
 * tsrunc (TX: exec it); returns its stdout. The script must delete what it creates.
 */
async function inPrivateMountNs(script: string, vars: Record<string, string>): Promise<string> {
  const argv = tsruncArgv([]);
  const cmd = `"$NODE" ${argv.map((a) => `'${a}'`).join(' ')} "$@"`;
  // T runs tsrunc; TX execs it (in a background subshell, $! is then tsrunc itself).
  const r = await exec('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `T() { ${cmd}; }\nTX() { exec ${cmd}; }\n${script}`], {
    env: childEnv({ NODE: process.execPath, ...vars }),
    timeout: 60_000,
  });
  return r.stdout;
}

/** The no-mount-namespace bundle: the default config without the mount entry (and what needs one). */
function sharedMountNs(more?: (s: Spec) => void) {
  return (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    delete s.linux!.maskedPaths;
    delete s.linux!.readonlyPaths;
    more?.(s);
  };
}

const COUNT = 'grep -c -F " $ROOTFS" /proc/self/mountinfo';

describe('a config without a mount namespace', () => {
  it('runs chrooted in rootfs with its mounts; delete takes down exactly the mounts it made', async () => {
    const bundle = makeBundle({ args: sh('cat /proc/self/mountinfo | grep -c -F " /dev/pts "; ls /bin/busybox; touch /x 2>&1 | grep -c Read-only'), mutate: sharedMountNs() });
    const id = uniqueId('confnm');
    try {
      const out = await inPrivateMountNs(
        // A mount that was there before create (ours, not the container's) must survive its delete.
        `mkdir -p "$ROOTFS/pre" && mount -t tmpfs pre "$ROOTFS/pre" && echo before=$(${COUNT})
        T run --bundle "$BUNDLE" "$ID"; echo rc=$?
        echo after-run=$(${COUNT})
        T create --bundle "$BUNDLE" "$ID"; echo during=$(${COUNT})
        T exec "$ID" ls -d /bin/busybox /pre
        T delete --force "$ID"; echo after-delete=$(${COUNT})
        grep -F " $ROOTFS/pre " /proc/self/mountinfo | cut -d" " -f5 | sed "s|$ROOTFS||"`,
        { ROOTFS: bundle.rootfs, BUNDLE: bundle.dir, ID: id },
      );
      const lines = out.trim().split('\n');
      // The container saw its own devpts and a read-only root. Create made 9 mounts (the rootfs bind, its copy
      // of /pre, the config's 7); delete undid those and left the one that was there before.
      expect(lines).toEqual(['before=1', '1', '/bin/busybox', '1', 'rc=0', 'after-run=1', 'during=10', '/bin/busybox', '/pre', 'after-delete=1', '/pre']);
    } finally {
      bundle.remove();
    }
  });

  it('a create that fails half-way leaves no mount behind in the runtime namespace', async () => {
    const bundle = makeBundle({
      args: ['true'],
      mutate: sharedMountNs((s) => s.mounts!.push({ destination: '/bad', type: 'tmpfs', source: 'tmpfs', options: ['size=bogus'] })),
    });
    try {
      const out = await inPrivateMountNs(`T run --bundle "$BUNDLE" "$ID" 2>&1; echo rc=$?; echo left=$(${COUNT})`, {
        ROOTFS: bundle.rootfs,
        BUNDLE: bundle.dir,
        ID: uniqueId('confnm'),
      });
      expect(out).toMatch(/^tsrunc: run: mounts\[7\]: .*size=bogus/m);
      expect(out).toMatch(/^rc=1\nleft=0$/m);
    } finally {
      bundle.remove();
    }
  });

  it('a create killed half-way: delete --force still takes down the mounts it had made', async () => {
    const ready = join(hostDir('ready'), 'hook-ran');
    const bundle = makeBundle({
      args: ['true'],
      // The createRuntime hook runs once every mount is made; it says so and blocks until killed.
      mutate: sharedMountNs((s) => (s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${ready}; exec sleep 120`] }] })),
    });
    try {
      const out = await inPrivateMountNs(
        `(TX create --bundle "$BUNDLE" "$ID") & P=$!
        i=0; until [ -s "$READY" ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.05; done
        kill -9 $P; wait $P; kill -9 $(cat "$READY")
        echo killed=$(${COUNT})
        T delete --force "$ID"; echo rc=$? left=$(${COUNT})`,
        { ROOTFS: bundle.rootfs, BUNDLE: bundle.dir, ID: uniqueId('confnm'), READY: ready },
      );
      expect(out).toMatch(/^killed=([1-9]\d*)\nrc=0 left=0\n$/);
    } finally {
      bundle.remove();
    }
  });

  it.each(['maskedPaths', 'readonlyPaths'] as const)('linux.%s is refused naming the field, with nothing mounted', async (field) => {
    const bundle = makeBundle({
      args: ['true'],
      mutate: sharedMountNs((s) => (s.linux![field] = ['/proc/kcore'])),
    });
    try {
      const out = await inPrivateMountNs(`T run --bundle "$BUNDLE" "$ID" 2>&1; echo rc=$?; echo left=$(${COUNT})`, {
        ROOTFS: bundle.rootfs,
        BUNDLE: bundle.dir,
        ID: uniqueId('confnm'),
      });
      expect(out).toBe(`tsrunc: run: linux.${field}: needs a private mount namespace (linux.namespaces has no "mount" entry)\nrc=1\nleft=0\n`);
    } finally {
      bundle.remove();
    }
  });
});

