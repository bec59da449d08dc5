// The parts of the OCI config this library reads: the config module's types under local names.
export type {
  LinuxResources,
  LinuxDeviceCgroup as DeviceRule,
  LinuxMemory as MemoryResources,
  LinuxCPU as CpuResources,
  LinuxWeightDevice as WeightDevice,
  LinuxThrottleDevice as ThrottleDevice,
  LinuxBlockIO as BlockIOResources,
} from '../config/types';
