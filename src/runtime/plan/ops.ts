// Operation codes of the plan; must match native/plan.h (checked by test/unit/plan-ops.test.ts).
export const Op = {
  SETNS: 1,
  UNSHARE: 2,
  USERNS_MAPS: 3,
  TIMENS_OFFSETS: 4,
  FORK: 5,
  SETSID: 10,
  PROPAGATION: 11,
  ROOTFS: 12,
  MOUNT: 13,
  MKNOD: 14,
  BIND_DEVICE: 15,
  SYMLINK: 16,
  SYSCTL: 17,
  HOSTNAME: 18,
  DOMAINNAME: 19,
  PIVOT_ROOT: 20,
  CHROOT: 21,
  MASK_PATH: 22,
  READONLY_PATH: 23,
  REMOUNT_ROOT_RO: 24,
  CHDIR: 25,
  RLIMIT: 26,
  UMASK: 27,
  OOM_SCORE_ADJ: 28,
  NO_NEW_PRIVS: 29,
  SETGROUPS: 30,
  SETGID: 31,
  SETUID: 32,
  CAPS: 33,
  SECCOMP: 34,
  PERSONALITY: 35,
  SCHEDULER: 36,
  IOPRIO: 37,
  CPU_AFFINITY: 38,
  SESSION_KEYRING: 39,
  CLOSE_FD: 40,
  LISTEN_START: 41,
  READY: 42,
  WAIT_START: 43,
  FIND_EXEC: 44,
  EXEC: 45,
  CONSOLE: 46,
  SYNC: 47,
  ENTER_ROOT: 50,
} as const;
export type OpName = keyof typeof Op;

// OP_MOUNT mflags
export const MountFlag = { BIND: 0x1, FILE: 0x2, RECURSIVE: 0x4, CGROUP2: 0x8 } as const;

// Sync-socket message tags (first byte of each packet).
export const Msg = { ERROR: 'E', PID: 'P', MAPS: 'M', READY: 'R', SYNC: 'S', GO: 'G', ABORT: 'A' } as const;
