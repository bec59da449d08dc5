/** What tsrunc keeps about a container in <root>/<id>/state.json. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Init pid in the runtime's pid namespace, and its start time (clock ticks) to detect pid reuse. */
  pid: number;
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  annotations: Record<string, string>;
  /** The cgroup v2 path (as /proc/<pid>/cgroup shows it), its directory, and the directories create made. */
  cgroupPath: string;
  cgroupDir: string;
  cgroupCreated: string[];
  /** Whether the init has its own pid namespace (kill --all and delete rely on it). */
  ownPidNamespace: boolean;
  /** The hooks still to run after create (poststart, poststop). */
  hooks: {
    poststart?: HookRecord[];
    poststop?: HookRecord[];
    startContainer?: HookRecord[];
  };
}

export interface HookRecord {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';
