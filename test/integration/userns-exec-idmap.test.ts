// Issue 13, functional findings: exec into a created container with a user namespace, and id-mapped
// mounts (mounts[].uidMappings) in a container that has a user namespace.
import { chmodSync, chownSync, mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostDir, makeBundle, tsrunc, tsruncOk, uniqueId, type Spec } from '../helpers';

const HOST_BASE = 300000;
const SIZE = 65536;

function withUserns(spec: Spec): void {
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: HOST_BASE, size: SIZE }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: HOST_BASE, size: SIZE }];
}

function usernsBundle(args: string[], more?: (spec: Spec) => void) {
  const b = makeBundle({ args, mutate: (spec) => (withUserns(spec), more?.(spec)) });
  chmodSync(b.dir, 0o755);
  mkdirSync(join(b.rootfs, 'data'));
  return b;
}

describe('user namespace containers', () => {
  it('exec into a created container joins all its namespaces (the fds are opened before the user namespace is joined)', async () => {
    const b = usernsBundle(['sleep', '30']);
    const id = uniqueId('uxc');
    try {
      await tsruncOk(['create', '--bundle', b.dir, id]);
      const pid = JSON.parse(await tsruncOk(['state', id])).pid as number;
      const kinds = ['user', 'cgroup', 'mnt', 'pid', 'net', 'ipc', 'uts'];
      const r = await tsrunc(['exec', id, 'sh', '-c', `id -u; for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [uid, ...links] = r.stdout.trim().split('\n');
      expect(uid).toBe('0');
      // Each namespace of the exec'd process is the init's (read on the host: the waiting init is not
      // dumpable, so the container cannot read its /proc/1/ns).
      expect(links).toEqual(kinds.map((k) => readlinkSync(`/proc/${pid}/ns/${k}`)));
      // The process runs as the mapped host id.
      expect(statSync(`/proc/${pid}`).uid).toBe(HOST_BASE);
    } finally {
      await tsrunc(['delete', '--force', id]);
      b.remove();
    }
  });

  it('an id-mapped bind mount works in a container with its own user namespace', async () => {
    const src = hostDir('idmap-userns');
    chmodSync(src, 0o755);
    writeFileSync(join(src, 'root-file'), 'r');
    writeFileSync(join(src, 'three-file'), 't');
    chownSync(join(src, 'three-file'), 3, 3);
    // Source ids 0..SIZE show as the container's (host HOST_BASE..): files of host root are the container root's.
    const b = usernsBundle(['sh', '-c', 'stat -c "%n %u:%g" /data/root-file /data/three-file; touch /data/made && echo made'], (spec) => {
      spec.root!.readonly = false;
      spec.mounts!.push({
        destination: '/data',
        type: 'bind',
        source: src,
        options: ['bind'],
        uidMappings: [{ containerID: 0, hostID: HOST_BASE, size: SIZE }],
        gidMappings: [{ containerID: 0, hostID: HOST_BASE, size: SIZE }],
      });
    });
    const id = uniqueId('uxi');
    try {
      const r = await tsrunc(['run', '--bundle', b.dir, id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['/data/root-file 0:0', '/data/three-file 3:3', 'made']);
      // The container's root wrote through the mapping: the file belongs to the source's root.
      const made = statSync(join(src, 'made'));
      expect([made.uid, made.gid]).toEqual([0, 0]);
    } finally {
      await tsrunc(['delete', '--force', id]);
      b.remove();
    }
  });
});
