// `tsrunc spec`: the default config.json, the same as `runc spec` writes (so scripts written for runc work).
import type { Mount, Spec } from '../runtime/config/types';
import { OCI_VERSION } from '../runtime/spec-version';

export interface DefaultSpecOptions {
  /** A config for an unprivileged caller (`spec --rootless`). */
  rootless?: boolean;
  /** process.args; default ["sh"]. */
  args?: string[];
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: opts.args ? [...opts.args] : ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: defaultMounts(),
    linux: {
      // Deny all devices; the runtime adds the standard ones (null, zero, full, random, urandom, tty, ...).
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      // runc adds the cgroup namespace only on a cgroup v2 host; we always do: the kernel has it either
      // way, and the /sys/fs/cgroup mount (cgroup2) then shows the container's own cgroup.
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/tpm',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (opts.rootless) toRootless(spec);
  return spec;
}

/**
 * Adapt the default config to an unprivileged caller: map only the caller's ids (as uid/gid 0) in a new user
 * namespace, keep the host network (an unprivileged user cannot wire up a new one), bind /sys from the host
 * (sysfs cannot be mounted without owning the network namespace), drop uid=/gid= mount options (those ids are
 * not mapped), and leave out cgroup resources and the cgroup mount (no delegated cgroup to use).
 */
function toRootless(spec: Spec): void {
  const linux = spec.linux!;
  linux.namespaces = linux.namespaces!.filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  linux.namespaces.push({ type: 'user' });
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  const mounts: Mount[] = [];
  for (const m of spec.mounts!) {
    if (m.destination === '/sys') {
      mounts.push({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
      continue;
    }
    if (m.destination === '/sys/fs/cgroup') continue;
    if (m.options) m.options = m.options.filter((o) => !o.startsWith('uid=') && !o.startsWith('gid='));
    mounts.push(m);
  }
  spec.mounts = mounts;
  delete linux.resources;
}
