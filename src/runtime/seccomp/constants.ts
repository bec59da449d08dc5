// Kernel ABI numbers (linux/seccomp.h, linux/audit.h, linux/filter.h) and the OCI/libseccomp names for them.

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const EPERM = 1;

/** OCI action name -> base return value; ERRNO and TRACE carry 16 bits of data (errnoRet). */
export const ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET_TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET_ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET_TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET_ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET_LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET_USER_NOTIF,
};

export const OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
export type Operator = (typeof OPERATORS)[number];

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_SYSCALL_BIT = 0x40000000;

/** Architectures we have syscall tables for (and so can filter). */
export const SUPPORTED_ARCHS = ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] as const;
export type SupportedArch = (typeof SUPPORTED_ARCHS)[number];

/**
 * Valid libseccomp names without tables here. A filter listing them only adds rules for syscalls of
 * that ABI, which a process on an x86 host can never make, so skipping them changes no decision.
 */
export const OTHER_ARCHS: ReadonlySet<string> = new Set([
  'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;

/** Flags accepted in `linux.seccomp.flags`, with the kernel release that introduced each. */
export const FLAGS: Readonly<Record<string, { bit: number; since: [number, number] }>> = {
  SECCOMP_FILTER_FLAG_TSYNC: { bit: SECCOMP_FILTER_FLAG_TSYNC, since: [3, 17] },
  SECCOMP_FILTER_FLAG_LOG: { bit: SECCOMP_FILTER_FLAG_LOG, since: [4, 14] },
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: { bit: SECCOMP_FILTER_FLAG_SPEC_ALLOW, since: [4, 17] },
  SECCOMP_FILTER_FLAG_NEW_LISTENER: { bit: SECCOMP_FILTER_FLAG_NEW_LISTENER, since: [5, 0] },
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: { bit: SECCOMP_FILTER_FLAG_TSYNC_ESRCH, since: [5, 7] },
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: { bit: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, since: [5, 19] },
};

/** Layout of struct seccomp_data (little endian). */
export const DATA_NR = 0;
export const DATA_ARCH = 4;
export const DATA_ARGS = 16;

export const BPF_MAXINSNS = 4096;
