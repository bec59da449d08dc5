// The plan steps (and the refusals) for process.apparmorProfile, process.selinuxLabel and linux.mountLabel.
import type { Process } from '../config/types';
import { ConfigError } from '../errors';
import { type Plan, s } from '../plan/encode';
import { apparmorEnabled, selinuxEnabled } from './detect';

/** Whether each LSM is enabled; build() reads the host when not given (tests and exec pass their own). */
export interface LsmHost {
  apparmor: boolean;
  selinux: boolean;
}

export function hostLsm(): LsmHost {
  return { apparmor: apparmorEnabled(), selinux: selinuxEnabled() };
}

/**
 * The labels that take effect at the final execve (the kernel's "on exec" attributes): written while tsrunc-init
 * is still privileged and the trusted procfs is open, so the profile never confines tsrunc's own setup (runc's
 * order too: it applies the profile after the rootfs is finished, before seccomp and the privilege drop).
 * Without the LSM a config asking for it is refused rather than run unconfined.
 */
export function addLsmSteps(plan: Plan, proc: Process, host: LsmHost = hostLsm(), where = 'process'): void {
  const profile = proc.apparmorProfile;
  if (profile) {
    if (!host.apparmor) throw new ConfigError(`${where}.apparmorProfile`, 'AppArmor is not enabled on this host');
    // The kernel parses "exec <name>" up to the end of the write: a newline or NUL would cut or confuse it.
    if (/[\0\n]/.test(profile)) throw new ConfigError(`${where}.apparmorProfile`, 'a profile name cannot contain a newline or NUL');
    plan.add('APPARMOR', `${where}.apparmorProfile`, s(profile));
  }
  const label = proc.selinuxLabel;
  if (label) {
    if (!host.selinux) throw new ConfigError(`${where}.selinuxLabel`, 'SELinux is not enabled on this host');
    if (/[\0\n]/.test(label)) throw new ConfigError(`${where}.selinuxLabel`, 'a label cannot contain a newline or NUL');
    plan.add('SELINUX_LABEL', `${where}.selinuxLabel`, s(label));
  }
}

/** linux.mountLabel, checked once for the whole config: refused without SELinux even if no mount would use it. */
export function mountLabel(label: string | undefined, host: LsmHost): string | undefined {
  if (!label) return undefined;
  if (!host.selinux) throw new ConfigError('linux.mountLabel', 'SELinux is not enabled on this host');
  if (/["\0\n]/.test(label)) throw new ConfigError('linux.mountLabel', 'a label cannot contain a quote, newline or NUL');
  return label;
}

// runc's rule: proc and sysfs keep their own labels and mqueue is relabelled after mounting (not done here);
// every other filesystem mounted by type gets the container's context. A bind keeps the labels of what it shows.
const NO_CONTEXT = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/** The mount data with SELinux's context= option. The label is quoted: an MCS range has commas ("s0:c1,c2"). */
export function withMountLabel(data: string, fstype: string, bind: boolean, label: string | undefined): string {
  if (!label || bind || NO_CONTEXT.has(fstype)) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}
