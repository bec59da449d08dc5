// Which Linux security modules this host runs. Read fresh on every call: a test can point them elsewhere, and
// a call costs two stat/reads.
import fs from 'node:fs';
import { readTextIfPresent } from '../read-if-present';

/** Where the kernel shows the LSMs; overridable for tests (the guest and the host differ). */
export const LSM_PATHS = {
  apparmorEnabled: '/sys/module/apparmor/parameters/enabled',
  apparmorFs: '/sys/kernel/security/apparmor',
  selinuxEnforce: '/sys/fs/selinux/enforce',
};

/**
 * AppArmor is enabled: the module says "Y" (it is compiled in and chosen by lsm=) and securityfs shows its
 * directory (without it no profile can be loaded, so none can be applied).
 */
export function apparmorEnabled(): boolean {
  // every create asks, and most hosts have no AppArmor: nothing thrown (read-if-present.ts)
  if (!readTextIfPresent(LSM_PATHS.apparmorEnabled)?.startsWith('Y')) return false;
  try {
    return fs.statSync(LSM_PATHS.apparmorFs).isDirectory();
  } catch {
    return false;
  }
}

/** SELinux is enabled: selinuxfs is mounted and shows its mode (enforcing or permissive). */
export function selinuxEnabled(): boolean {
  return fs.existsSync(LSM_PATHS.selinuxEnforce);
}
