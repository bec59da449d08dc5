export { compileSeccomp, nativeSeccompArch } from './compile';
export { compileSeccompCached } from './cache';
export { seccompFeatures, type SeccompFeatures } from './features';
export type { CompileOptions, CompiledSeccomp, SeccompArg, SeccompConfig, SeccompSyscall } from './types';
