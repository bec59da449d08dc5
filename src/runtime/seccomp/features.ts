import { ACTIONS, FLAGS, OPERATORS, SUPPORTED_ARCHS } from './constants';

export interface SeccompFeatures {
  enabled: boolean;
  actions: string[];
  operators: string[];
  archs: string[];
  knownFlags: string[];
  supportedFlags: string[];
}

/**
 * The `linux.seccomp` part of `tsrunc features` (runc's JSON shape). supportedFlags are the known flags the
 * running kernel has (by release number: asking seccomp(2) needs native code, and a kernel never loses one).
 */
export function seccompFeatures(kernelRelease: string = process.getBuiltinModule('node:os').release()): SeccompFeatures {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const knownFlags = Object.keys(FLAGS);
  return {
    enabled: true,
    actions: Object.keys(ACTIONS).sort(),
    operators: [...OPERATORS].sort(),
    archs: [...SUPPORTED_ARCHS].sort(),
    knownFlags,
    supportedFlags: knownFlags.filter((f) => {
      const [a, b] = FLAGS[f].since;
      return major > a || (major === a && minor >= b);
    }),
  };
}
