// Issue 13: device nodes are made before pivot_root, while the rootfs is a host directory that others
// may rename in. A swapper on the host exchanges rootfs/dev/null with a symlink to a host file while
// create / delete --force loop; the host file must never change (the old code chmodded it to 0666).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, hostDir, makeBundle, tsrunc, uniqueId } from '../helpers';

describe('op_mknod never changes a node it did not create (issue 13)', () => {
  it('a racing RENAME_EXCHANGE of dev/null with a symlink to a host file leaves the host file alone', async () => {
    const dir = hostDir('mknod');
    const swapper = join(dir, 'swapper');
    execFileSync('cc', ['-O2', '-o', swapper, join(REPO, 'test', 'fixtures', 'swapper.c')]);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'host secret\n');
    chmodSync(victim, 0o600);
    const owner = statSync(victim);

    // No tmpfs on /dev: the devices go into the rootfs's own dev directory, on the host.
    const bundle = makeBundle({ args: ['true'], mutate: (spec) => void (spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev')) });
    const devDir = join(bundle.rootfs, 'dev');
    rmSync(join(devDir, 'null'), { force: true });
    symlinkSync(victim, join(devDir, 'evil'));
    const swap = spawn(swapper, [devDir, 'null', 'evil', '120'], { stdio: 'ignore' });
    let created = 0;
    let refused = 0;
    try {
      for (let i = 0; i < 40; i++) {
        const id = uniqueId('mknod');
        const c = await tsrunc(['create', '--bundle', bundle.dir, id]);
        if (c.code === 0) created++;
        else {
          refused++;
          // Acceptable failures: the node there is not the device (a symlink by then), when made or masked with.
          expect(c.stderr).toMatch(/^tsrunc: create: linux\.(devices|maskedPaths).*\/dev\/null.*\n$/);
        }
        await tsrunc(['delete', '--force', id]);
        const now = statSync(victim);
        expect((now.mode & 0o7777).toString(8), `attempt ${i}`).toBe('600');
        expect([now.uid, now.gid]).toEqual([owner.uid, owner.gid]);
      }
    } finally {
      swap.kill('SIGKILL');
      bundle.remove();
    }
    // The race really ran both ways: some creates made the node, some met the symlink.
    expect(created).toBeGreaterThan(0);
    expect(lstatSync(victim).isFile()).toBe(true);
    expect(created + refused).toBe(40);
  }, 240_000);
});
