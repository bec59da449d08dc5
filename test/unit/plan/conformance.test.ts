// Issue 9 plan shapes: no mount namespace (no propagation change, chroot in place), lo up only with a new
// network namespace, HOME only when env has none, id-mapped binds built in stage 1 before any user namespace.
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/bundle/spec';
import { ConfigError } from '../../../src/runtime/errors';
import { buildCreatePlan } from '../../../src/runtime/plan/build';
import { MountFlag } from '../../../src/runtime/plan/ops';

type Spec = ReturnType<typeof defaultSpec>;

function steps(mutate: (s: Spec) => void = () => {}) {
  const spec = defaultSpec({ args: ['true'] });
  spec.process!.terminal = false;
  mutate(spec);
  return buildCreatePlan(spec as never, { id: 'x', rootfs: '/nonexistent', preserveFds: 0, stateDirFd: 3 }).steps;
}

const ops = (s: ReturnType<typeof steps>) => s.map((x) => x.op);
const noMountNs = (s: Spec) => {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  delete s.linux!.maskedPaths;
  delete s.linux!.readonlyPaths;
};

describe('a config without a mount namespace', () => {
  it('leaves the propagation of / alone and chroots instead of pivot_root', () => {
    const o = ops(steps(noMountNs));
    expect(o).not.toContain('PROPAGATION');
    expect(o).not.toContain('PIVOT_ROOT');
    expect(o).not.toContain('CHROOT');
    expect(o.indexOf('CHROOT_TO')).toBeGreaterThan(o.lastIndexOf('MOUNT'));
  });

  it.each(['maskedPaths', 'readonlyPaths'] as const)('refuses linux.%s', (field) => {
    expect(() => steps((s) => {
      noMountNs(s);
      s.linux![field] = ['/proc/kcore'];
    })).toThrow(new ConfigError(`linux.${field}`, 'needs a private mount namespace (linux.namespaces has no "mount" entry)'));
  });

  it('refuses linux.rootfsPropagation', () => {
    expect(() => steps((s) => {
      noMountNs(s);
      s.linux!.rootfsPropagation = 'shared';
    })).toThrow(/^linux\.rootfsPropagation: /);
  });
});

describe('loopback and HOME', () => {
  it('LOOPBACK_UP follows the unshare of a new network namespace, and only then', () => {
    const o = ops(steps());
    expect(o.indexOf('LOOPBACK_UP')).toBe(o.indexOf('UNSHARE') + 1);
    expect(ops(steps((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'))))).not.toContain('LOOPBACK_UP');
  });

  it('HOME is looked up only when process.env has none, for process.user.uid', () => {
    const home = steps((s) => (s.process!.user = { uid: 1000, gid: 1000 })).filter((x) => x.op === 'HOME');
    expect(home.map((x) => x.args)).toEqual([[{ u64: 1000 }]]);
    expect(ops(steps((s) => s.process!.env!.push('HOME=/h')))).not.toContain('HOME');
  });
});

describe('id-mapped binds', () => {
  it('are built before the user namespace is made and attached as prepared', () => {
    const s = steps((spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.mounts!.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] });
    });
    const o = ops(s);
    const prep = o.indexOf('PREPARE_MOUNT');
    expect(prep).toBeGreaterThanOrEqual(0);
    expect(prep).toBeLessThan(o.indexOf('UNSHARE'));
    // The container's maps, since the mount has none of its own.
    expect(s[prep]!.args[9]).toEqual({ str: '0 100000 65536\n' });
    const mount = s.find((x) => x.op === 'MOUNT' && x.where === 'mounts[7]')!;
    expect(Number((mount.args[8] as { u64: number }).u64) & MountFlag.PREPARED).toBe(MountFlag.PREPARED);
  });

  it('idmap on a non-bind mount is refused', () => {
    expect(() => steps((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] });
    })).toThrow(/^mounts\[7\]\.options: .*bind/);
  });
});
