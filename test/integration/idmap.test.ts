// mounts[].uidMappings/gidMappings: an id-mapped bind mount (MOUNT_ATTR_IDMAP through a user namespace
// with those maps, written like a user namespace's: containerID hostID size, as runc does).
import { chownSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostDir, runContainer } from '../helpers';

const src = hostDir('idmap');

describe('id-mapped mounts', () => {
  it('shows the source ids through the mount maps and writes through them', async () => {
    writeFileSync(join(src, 'root-file'), 'r');
    writeFileSync(join(src, 'three-file'), 't');
    chownSync(join(src, 'three-file'), 3, 3);
    const r = await runContainer(
      (spec) => {
        spec.root!.readonly = false;
        spec.process!.user = { uid: 1000, gid: 1000 };
        spec.mounts!.push({
          destination: '/data',
          type: 'bind',
          source: src,
          options: ['bind'],
          uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
          gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
        });
      },
      ['sh', '-c', 'stat -c "%n %u:%g" /data/root-file /data/three-file; touch /data/made-in-container && echo made'],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['/data/root-file 1000:1000', '/data/three-file 1003:1003', 'made']);
    // The container's uid 1000 wrote the file as the source's uid 0.
    const made = statSync(join(src, 'made-in-container'));
    expect([made.uid, made.gid]).toEqual([0, 0]);
  });

  it('a mapping the source filesystem cannot take is a clear create error', async () => {
    const r = await runContainer(
      (spec) => {
        spec.mounts!.push({
          destination: '/data',
          type: 'bind',
          source: src,
          options: ['bind'],
          uidMappings: [{ containerID: 0, hostID: 1000, size: 0 }],
          gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
        });
      },
      ['true'],
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrunc: run: mounts\[\d+\]/m);
  });
});
