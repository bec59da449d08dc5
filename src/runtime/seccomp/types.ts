// Input: the OCI runtime-spec `linux.seccomp` object, field names exactly as in config.json.
// Kept local (not imported from config/types.ts) so the compiler stays independent; structurally compatible.

export interface SeccompArg {
  index: number;
  /** u64; a bigint is accepted for values above 2^53 that JSON numbers cannot carry exactly. */
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

export interface SeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompConfig {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SeccompSyscall[];
}

export interface CompiledSeccomp {
  /** struct sock_filter[]: 8-byte records {u16 code, u8 jt, u8 jf, u32 k}, little endian. */
  filter: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). */
  flags: number;
  instructions: number;
  /** Some rule returns SECCOMP_RET_USER_NOTIF: `flags` has NEW_LISTENER, send the fd to listenerPath. */
  usesNotify: boolean;
}

export interface CompileOptions {
  /** The arch of the process that loads the filter; always in the filter (as libseccomp does). */
  nativeArch?: string;
}
