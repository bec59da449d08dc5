import { seccompFeatures } from '../seccomp';
import { CAPABILITIES, capLastCap } from '../config/capabilities';
import { isKnownMountOption } from '../config/mount-options';
import { apparmorEnabled, selinuxEnabled } from '../lsm';
import { OCI_VERSION } from '../spec-version';

// prettier-ignore
const MOUNT_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'mand', 'noatime', 'nodev',
  'nodiratime', 'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private',
  'ratime', 'rbind', 'rdev', 'rdiratime', 'relatime', 'remount', 'rexec', 'rnoatime', 'rnodev',
  'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro', 'rprivate',
  'rrelatime', 'rro', 'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow', 'runbindable',
  'rw', 'shared', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable',
];

/** `features`: what this tsrunc supports, in runc's shape. Only what really works is listed. */
export function features() {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: MOUNT_OPTIONS.filter(isKnownMountOption),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: Object.keys(CAPABILITIES).filter((name) => CAPABILITIES[name]! <= capLastCap()),
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: seccompFeatures(),
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: selinuxEnabled() },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {},
  };
}
