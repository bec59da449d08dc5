// tsrunc run by an unprivileged user: a user namespace mapping only that user, state under
// $XDG_RUNTIME_DIR/tsrunc, no cgroup (none is delegated here), devices bound from the host.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../src/bundle/spec';
import { alive, childEnv, hostDir, makeBundle, procStatus, statusField, TSRUNC_CJS, uniqueId, waitFor } from '../helpers';

const NOBODY = 65534;
/** A uid without a passwd entry (an arbitrary uid, as some CI containers run as). */
const NAMELESS = 4242;
const runtimeDirs = new Map<number, string>();
function runtimeDirOf(uid: number): string {
  let dir = runtimeDirs.get(uid);
  if (!dir) {
    dir = hostDir('rootless');
    chownSync(dir, uid, uid);
    runtimeDirs.set(uid, dir);
  }
  return dir;
}
const runtimeDir = runtimeDirOf(NOBODY);

/** tsrunc as uid/gid `uid` with no supplementary groups; no --root: the rootless default. */
function asUser(uid: number, args: string[], detached = false) {
  const r = spawnSync(
    'setpriv',
    ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', process.execPath, TSRUNC_CJS, ...args],
    // A detached container keeps tsrunc's stdio: pipes would never close.
    { env: childEnv({ XDG_RUNTIME_DIR: runtimeDirOf(uid) }), encoding: 'utf8', timeout: 20_000, stdio: detached ? 'ignore' : 'pipe' },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const asNobody = (args: string[], detached = false) => asUser(NOBODY, args, detached);

function rootlessBundle(args: string[], uid = NOBODY) {
  const bundle = makeBundle({
    mutate: () => {
      const spec = defaultSpec({ rootless: true, args });
      spec.process!.terminal = false;
      // defaultSpec maps the user it runs as (root, here): map the one tsrunc will run as.
      spec.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
      return spec;
    },
  });
  chmodSync(bundle.dir, 0o755);
  return bundle;
}

describe('rootless (an unprivileged user runs tsrunc)', () => {
  it('runs a container as root of its own user namespace, mapped to the caller', () => {
    const bundle = rootlessBundle(['sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/self/setgroups; echo x > /dev/null && echo null-ok']);
    const r = asNobody(['run', '-b', bundle.dir, uniqueId('rl')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [uid, map, setgroups, nullOk] = r.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(map!.trim().split(/\s+/)).toEqual(['0', String(NOBODY), '1']);
    expect(setgroups).toBe('deny');
    expect(nullOk).toBe('null-ok');
  });

  it('keeps its state under $XDG_RUNTIME_DIR/tsrunc and supports exec, kill and delete', async () => {
    const bundle = rootlessBundle(['sleep', '60']);
    const id = uniqueId('rl');
    expect(asNobody(['run', '-d', '-b', bundle.dir, id], true).code).toBe(0);
    try {
      expect(existsSync(join(runtimeDir, 'tsrunc', id, 'state.json'))).toBe(true);
      const state = JSON.parse(asNobody(['state', id]).stdout);
      expect(state.status).toBe('running');
      // The pid is a real process: the caller's uid on the host, in a user namespace of its own.
      const pid = state.pid as number;
      expect(statusField(procStatus(pid), 'Uid').split(/\s+/)[0]).toBe(String(NOBODY));
      expect(readlinkSync(`/proc/${pid}/ns/user`)).not.toBe(readlinkSync('/proc/self/ns/user'));
      const e = asNobody(['exec', id, 'sh', '-c', 'id -u; readlink /proc/1/ns/user; readlink /proc/self/ns/user']);
      expect(e.code).toBe(0);
      const [euid, initNs, selfNs] = e.stdout.trim().split('\n');
      expect(euid).toBe('0');
      expect(selfNs).toBe(initNs);
      expect(asNobody(['kill', id, 'KILL']).code).toBe(0);
      await waitFor(`init ${pid} to die`, () => !alive(pid));
    } finally {
      expect(asNobody(['delete', '--force', id]).code).toBe(0);
    }
    expect(existsSync(join(runtimeDir, 'tsrunc', id))).toBe(false);
  });

  it.each([
    [NOBODY, 'nobody'],
    [NAMELESS, `#${NAMELESS}`],
  ])('names the container\'s owner (uid %i) as runc\'s list does: %s', async (uid, owner) => {
    const bundle = rootlessBundle(['sleep', '60'], uid);
    const id = uniqueId('rl');
    const r = asUser(uid, ['create', '-b', bundle.dir, id], true);
    try {
      expect(r.code).toBe(0);
      const listed = (JSON.parse(asUser(uid, ['list', '--format', 'json']).stdout) as Array<{ id: string; owner: string }>).find((c) => c.id === id);
      expect(listed?.owner).toBe(owner);
      expect(JSON.parse(asUser(uid, ['state', id]).stdout).owner).toBe(''); // as runc's state
    } finally {
      expect(asUser(uid, ['delete', '--force', id]).code).toBe(0);
    }
  });

  it('refuses resource limits it cannot enforce without a delegated cgroup', () => {
    const bundle = rootlessBundle(['true']);
    bundle.spec.linux!.resources = { pids: { limit: 10 } };
    bundle.save();
    const r = asNobody(['run', '-b', bundle.dir, uniqueId('rl')]);
    expect(r.code).not.toBe(0);
    // Here the pids controller is missing altogether; with it, the unprivileged mkdir is refused.
    expect(r.stderr).toMatch(/^tsrunc: run: .*(permission denied|not available)/im);
  });
});
