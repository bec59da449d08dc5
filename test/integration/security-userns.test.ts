// User namespaces: the container's root is an unprivileged host id; what it creates belongs to that id.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostDir, makeBundle, tsrunc, uniqueId, TSRUNC_CJS, childEnv, type BundleOptions, type Spec } from '../helpers';

/** A bundle the container's root (an unprivileged host id) can reach: mkdtemp makes it 0700. */
function usernsBundle(opts: BundleOptions) {
  const bundle = makeBundle(opts);
  chmodSync(bundle.dir, 0o755);
  // The rootfs belongs to the host's root, unmapped inside: mount points must exist beforehand.
  mkdirSync(join(bundle.rootfs, 'data'));
  return bundle;
}

/** `tsrunc run` of a usernsBundle (not the helpers' runContainer: the bundle must be reachable as the mapped root). */
async function runInUserns(mutate: BundleOptions['mutate'], args: string[]) {
  const bundle = usernsBundle({ args, mutate });
  const id = uniqueId('userns');
  try {
    return await tsrunc(['run', '--bundle', bundle.dir, id]);
  } finally {
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
  }
}

const HOST_BASE = 200000;
const SIZE = 65536;

function userns(more?: (spec: Spec) => void) {
  return (spec: Spec) => {
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: HOST_BASE, size: SIZE }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: HOST_BASE + 1000, size: SIZE }];
    more?.(spec);
  };
}

/** A host dir the mapped root can reach (mkdtemp makes it 0700). */
function reachableHostDir(): string {
  const d = hostDir('userns');
  chmodSync(d, 0o755);
  return d;
}

describe('user namespaces', () => {
  it('uid_map and gid_map inside are the configured ones; the process is root there', async () => {
    const r = await runInUserns(userns(), ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; cat /proc/self/setgroups']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toEqual([`0 ${HOST_BASE} ${SIZE}`, `0 ${HOST_BASE + 1000} ${SIZE}`, '0', '0', 'allow']);
  });

  it('the container init runs as the mapped host ids, as seen from the host', async () => {
    const bundle = usernsBundle({ args: ['sleep', '30'], mutate: userns() });
    const id = uniqueId('userns');
    try {
      const c = await tsrunc(['create', '--bundle', bundle.dir, id]);
      expect(c.stderr).toBe('');
      const pid = JSON.parse((await tsrunc(['state', id])).stdout).pid as number;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${HOST_BASE}\\s+${HOST_BASE}\\s+${HOST_BASE}\\s+${HOST_BASE}$`, 'm'));
      expect(status).toMatch(new RegExp(`^Gid:\\s+${HOST_BASE + 1000}\\s+`, 'm'));
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('files created in a bind-mounted host dir are owned by the mapped host ids', async () => {
    const dir = reachableHostDir();
    chownSync(dir, HOST_BASE, HOST_BASE + 1000);
    const r = await runInUserns(
      userns((spec) => {
        spec.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] });
        spec.process!.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
      }),
      ['sh', '-c', 'touch /data/root-file && mkdir /data/d && touch /data/u && chown 1000:7 /data/u && ls -ln /data'],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const st = statSync(join(dir, 'root-file'));
    expect([st.uid, st.gid]).toEqual([HOST_BASE, HOST_BASE + 1000]);
    const d = statSync(join(dir, 'd'));
    expect([d.uid, d.gid]).toEqual([HOST_BASE, HOST_BASE + 1000]);
    const u = statSync(join(dir, 'u'));
    expect([u.uid, u.gid]).toEqual([HOST_BASE + 1000, HOST_BASE + 1000 + 7]);
    // Inside, the same files show the container's ids.
    expect(r.stdout).toMatch(/\s0\s+0\s.*root-file/);
    expect(r.stdout).toMatch(/\s1000\s+7\s.*\su$/m);
  });

  it('a host file owned by an unmapped id shows as the overflow id and cannot be written', async () => {
    const dir = reachableHostDir(); // owned by the host's root: unmapped in the container
    writeFileSync(join(dir, 'secret'), 'host\n', { mode: 0o644 });
    const r = await runInUserns(
      userns((spec) => {
        spec.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] });
      }),
      ['sh', '-c', 'ls -ln /data/secret; echo pwned > /data/secret; echo rc=$?; cat /data/secret'],
    );
    expect(r.stdout).toMatch(/65534\s+65534/);
    expect(r.stdout).toContain('rc=1');
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('host\n');
  });

  it('devices work (bound from the host)', async () => {
    const r = await runInUserns(userns(), [
      'sh',
      '-c',
      'echo x > /dev/null && echo null=ok; head -c 5 /dev/zero | wc -c; head -c 8 /dev/urandom | wc -c; echo x > /dev/full; echo full=$?; ls -ln /dev/null',
    ]);
    expect(r.stderr).toMatch(/^sh: write error: No space left on device$|No space left on device/);
    expect(r.stdout).toContain('null=ok');
    expect(r.stdout).toMatch(/^5$/m);
    expect(r.stdout).toMatch(/^8$/m);
    expect(r.stdout).toContain('full=1');
    expect(r.stderr).toMatch(/No space left on device/);
    expect(r.stdout).toMatch(/^crw-rw-rw-\s+\d+\s+65534\s+65534\s+1,\s+3\s/m);
  });

  it('the container root has no privilege over the host: a capability-gated host action fails', async () => {
    // In the user namespace it has CAP_SYS_ADMIN, but over its own namespaces only: e.g. no module loading,
    // and setting the host's time is refused.
    const r = await runInUserns(
      userns((spec) => {
        const all = ['CAP_SYS_ADMIN', 'CAP_SYS_TIME', 'CAP_SYS_MODULE'];
        spec.process!.capabilities = { bounding: all, effective: all, permitted: all };
      }),
      ['sh', '-c', 'date -s 2000.01.01-00:00:00 >/dev/null; grep CapEff /proc/self/status'],
    );
    expect(r.stdout).toMatch(/CapEff:\s+0000000002210000/);
    expect(r.stderr).toMatch(/can't set date: Operation not permitted/);
    expect(new Date().getFullYear()).toBeGreaterThan(2000);
  });

  it('`tsrunc spec --rootless` writes a config that runs (as root here too)', async () => {
    const bundle = usernsBundle({ args: ['true'] });
    rmSync(bundle.configPath);
    execFileSync(process.execPath, [TSRUNC_CJS, 'spec', '--rootless', '--bundle', bundle.dir], { env: childEnv() });
    const spec = JSON.parse(readFileSync(bundle.configPath, 'utf8'));
    expect(spec.linux.namespaces.map((n: { type: string }) => n.type)).toContain('user');
    spec.process.terminal = false;
    spec.process.args = ['sh', '-c', 'cat /proc/self/uid_map; id -u'];
    bundle.spec = spec;
    bundle.save();
    const id = uniqueId('rootless');
    const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0 0 1', '0']);
  });
});
