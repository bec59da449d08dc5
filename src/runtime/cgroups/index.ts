// cgroup v2 (cgroupfs driver) for tsrunc. Never touches a cgroup v1 hierarchy.
export { Cgroup, type CreateOptions, type OpenOptions } from './manager';
export { cgroup2Mount, findCgroup2Mount, parseMountInfo, type MountInfo } from './mountinfo';
export { cgroupDir, parseOwnCgroup, resolveCgroupPath } from './path';
export { requiredControllers, resourceWrites, sharesToWeight, blkioWeightToIoWeight, type CgroupWrite } from './resources';
export { compileDeviceFilter, defaultAllowedDevices, DEVICE_PROG_LICENSE } from './devices';
export { readStats, statsJson, type Stats } from './stats';
export type { LinuxResources, DeviceRule } from './types';
