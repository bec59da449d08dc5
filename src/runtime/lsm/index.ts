export { apparmorEnabled, selinuxEnabled, LSM_PATHS } from './detect';
export { addLsmSteps, hostLsm, mountLabel, withMountLabel, type LsmHost } from './steps';
