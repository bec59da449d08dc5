import fs from 'node:fs';
import { ConfigError } from '../errors';

/** Linux capability numbers (linux/capability.h), up to CAP_CHECKPOINT_RESTORE. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

let lastCap: number | undefined;

/** The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap); our table's maximum if unreadable. */
export function capLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number.parseInt(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'), 10);
    } catch {
      lastCap = NaN;
    }
    if (!Number.isInteger(lastCap)) lastCap = CAPABILITIES.CAP_CHECKPOINT_RESTORE!;
  }
  return lastCap;
}

/** Capability number of a name, or undefined when the name is unknown. Names are case-sensitive, as in runc. */
export function capabilityNumber(name: string): number | undefined {
  return Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
}

/**
 * The 64-bit set of `names`. Unknown names are a ConfigError at `where[i]`; names this kernel does not
 * have are left out (runc ignores them with a warning), so a newer config still runs on an older kernel.
 */
export function capabilityMask(names: readonly string[], where: string): bigint {
  const last = capLastCap();
  let mask = 0n;
  names.forEach((name, i) => {
    const n = capabilityNumber(name);
    if (n === undefined) throw new ConfigError(`${where}[${i}]`, `unknown capability "${name}"`);
    if (n <= last) mask |= 1n << BigInt(n);
  });
  return mask;
}

export const CAPABILITY_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;
export type CapabilitySet = (typeof CAPABILITY_SETS)[number];
export type CapabilityMasks = Record<CapabilitySet, bigint>;

/** Every capability this kernel has. */
export function allCapabilities(): bigint {
  return (1n << BigInt(capLastCap() + 1)) - 1n;
}

/**
 * What the container's process can be given. In a user namespace (created or joined) it starts with
 * every capability of that namespace; otherwise it can have no more than the runtime holds itself:
 * its bounding set limits what an exec'd root program keeps, its permitted set what capset(2) accepts.
 */
export function grantableCapabilities(inUserns: boolean): bigint {
  if (inUserns) return allCapabilities();
  let status: string;
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return allCapabilities();
  }
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    return m ? BigInt(`0x${m[1]}`) : allCapabilities();
  };
  return field('CapBnd') & field('CapPrm') & allCapabilities();
}

/**
 * config.md: a capability that is unknown or cannot be granted is logged as a warning and left out;
 * the container runs with the rest. Returns the masks of the five sets; `warn` hears one line per
 * capability and set, naming both.
 */
export function capabilityMasks(
  caps: Partial<Record<CapabilitySet, readonly string[]>> | undefined,
  grantable: bigint,
  warn: (message: string) => void = () => undefined,
): CapabilityMasks {
  const last = capLastCap();
  const masks = { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n };
  for (const set of CAPABILITY_SETS) {
    (caps?.[set] ?? []).forEach((name, i) => {
      const where = `process.capabilities.${set}[${i}]`;
      const n = capabilityNumber(name);
      if (n === undefined) return warn(`${where}: ignoring unknown capability "${name}"`);
      if (n > last) return warn(`${where}: ignoring ${name}: this kernel does not have it`);
      if (!((grantable >> BigInt(n)) & 1n)) return warn(`${where}: ignoring ${name}: the runtime does not hold it, so it cannot be granted`);
      masks[set] |= 1n << BigInt(n);
    });
  }
  // The kernel raises an ambient capability only if it is also permitted and inheritable. Like runc, leave
  // the others out rather than fail (buildah asks for ambient capabilities without inheritable ones).
  const unraisable = masks.ambient & ~(masks.permitted & masks.inheritable);
  if (unraisable) {
    const names = (caps?.ambient ?? []).filter((c) => ((unraisable >> BigInt(capabilityNumber(c) ?? 0)) & 1n) === 1n);
    warn(`process.capabilities.ambient: not raising ${names.join(', ')}: an ambient capability must also be permitted and inheritable`);
    masks.ambient &= ~unraisable;
  }
  return masks;
}
