// tsrunc's public, typed API: the runtime library the CLI and the containerd shim are both clients of.
//   import { create, start, state, kill, deleteContainer } from 'tsrunc';
// Every function takes the state root (runc's --root) and works on one container; none of them exits,
// prints or reads argv. Errors: ConfigError (bad config or argument; `where` is the JSON path) and
// RuntimeError (the operation failed).
export { create, rootless, type CreateOptions } from './ops/create';
export { start } from './ops/start';
export { run, type RunOptions } from './ops/run';
export { exec, execProcess, type ExecOptions, type ExecOverrides } from './ops/exec';
export { kill, parseSignal, type KillOptions } from './ops/kill';
export { deleteContainer, deleteContainer as delete, type DeleteOptions } from './ops/delete';
export { state, list, ociState, type StateView } from './ops/state';
export { pause, resume } from './ops/pause';
export { update } from './ops/update';
export { containerPids, psTable } from './ops/ps';
export { stats, events, eventJson, type ContainerEvent } from './ops/events';
export { features } from './ops/features';
export type { ConsoleTarget } from './ops/console';
export { loadBundleConfig, type LoadedBundle } from './config/load';
export { validateConfig, type ValidateOptions } from './config/validate';
export type { Spec, Process } from './config/types';
export type { LinuxResources } from './cgroups/types';
export type { Stats } from './cgroups/stats';
export type { ContainerRecord, Status } from './state/record';
export { ConfigError, RuntimeError } from './errors';
