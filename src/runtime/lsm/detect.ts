// Which Linux security modules this host runs. Read fresh on every call: a test can point them elsewhere, and
// a call costs two stat/reads.
import fs from 'node:fs';

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
  // Asked first: a host without AppArmor made every create throw (and catch) an ENOENT (see state/status.ts).
  if (!fs.existsSync(LSM_PATHS.apparmorEnabled)) return false;
  try {
    if (!fs.readFileSync(LSM_PATHS.apparmorEnabled, 'utf8').startsWith('Y')) return false;
    return fs.statSync(LSM_PATHS.apparmorFs).isDirectory();
  } catch {
    return false;
  }
}

/** SELinux is enabled: selinuxfs is mounted and shows its mode (enforcing or permissive). */
export function selinuxEnabled(): boolean {
  return fs.existsSync(LSM_PATHS.selinuxEnforce);
}
