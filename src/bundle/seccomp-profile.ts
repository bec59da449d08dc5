import type { LinuxSeccomp } from '../runtime/config/types';

/**
 * A Docker or containers-common seccomp profile (archMap, includes/excludes by arch and capability)
 * as the OCI `linux.seccomp` object that an engine would put in config.json for amd64 and `caps`.
 */
export function engineProfileToOci(profile: any, caps: string[]): LinuxSeccomp {
  const arch = 'amd64';
  const archMap = (profile.archMap ?? []).find((m: any) => m.architecture === 'SCMP_ARCH_X86_64');
  const syscalls = (profile.syscalls ?? []).filter((s: any) => {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch)) return false;
    if (inc.caps?.length && !inc.caps.every((c: string) => caps.includes(c))) return false;
    if (exc.arches?.length && exc.arches.includes(arch)) return false;
    if (exc.caps?.length && exc.caps.some((c: string) => caps.includes(c))) return false;
    return true;
  });
  return {
    defaultAction: profile.defaultAction,
    defaultErrnoRet: profile.defaultErrnoRet,
    architectures: archMap ? [archMap.architecture, ...(archMap.subArchitectures ?? [])] : undefined,
    syscalls: syscalls.map((s: any) => ({
      names: s.names,
      action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args?.length ? { args: s.args } : {}),
    })),
  };
}
