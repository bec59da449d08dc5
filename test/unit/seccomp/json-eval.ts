// An independent reading of the OCI seccomp JSON: decides one syscall straight from the config, without
// BPF, so tests can compare it with what the compiled program returns.
import type { SeccompConfig } from '../../../src/runtime/seccomp';
import { syscallsX32, syscallsX86, syscallsX86_64 } from '../../../src/runtime/seccomp/tables';
const SYSCALLS_X32: Record<string, number> = Object.fromEntries(syscallsX32());
const SYSCALLS_X86: Record<string, number> = Object.fromEntries(syscallsX86());
const SYSCALLS_X86_64: Record<string, number> = Object.fromEntries(syscallsX86_64());

export const AUDIT_X86_64 = 0xc000003e;
export const AUDIT_I386 = 0x40000003;
export const X32_BIT = 0x40000000;
export const KILL_PROCESS = 0x80000000;

const RET: Record<string, number> = {
  SCMP_ACT_KILL: 0,
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x30000,
  SCMP_ACT_ERRNO: 0x50000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

export function action(name: string, errnoRet: number | undefined): number {
  const base = RET[name];
  if (base === undefined) throw new Error(`unknown action ${name}`);
  return name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE' ? (base | (errnoRet ?? 1)) >>> 0 : base;
}

function reverse(t: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(t).map(([k, v]) => [v, k]));
}
const BY_NR = {
  SCMP_ARCH_X86_64: reverse(SYSCALLS_X86_64),
  SCMP_ARCH_X86: reverse(SYSCALLS_X86),
  SCMP_ARCH_X32: reverse(SYSCALLS_X32),
};

export function evaluateJson(
  p: SeccompConfig,
  d: { arch: number; nr: number; args?: bigint[] },
  native = 'SCMP_ARCH_X86_64',
): number {
  const def = action(p.defaultAction, p.defaultErrnoRet);
  const archs = new Set([native, ...(p.architectures ?? [])]);
  let abi: keyof typeof BY_NR;
  if (d.arch === AUDIT_I386) abi = 'SCMP_ARCH_X86';
  else if (d.arch === AUDIT_X86_64) {
    if (d.nr === 0xffffffff && (archs.has('SCMP_ARCH_X86_64') || archs.has('SCMP_ARCH_X32'))) return def;
    abi = d.nr >= X32_BIT ? 'SCMP_ARCH_X32' : 'SCMP_ARCH_X86_64';
  } else return KILL_PROCESS;
  if (!archs.has(abi)) return KILL_PROCESS;
  const name = BY_NR[abi].get(d.nr);
  if (name === undefined) return def;
  const args = d.args ?? [];
  const rules = (p.syscalls ?? [])
    .filter((s) => s.names.includes(name))
    .map((s) => ({ act: action(s.action, s.errnoRet), args: s.args ?? [] }))
    .filter((r) => r.act !== def);
  const uncond = rules.find((r) => r.args.length === 0);
  if (uncond) return uncond.act;
  for (const r of rules) {
    // i386 args are 32-bit: only the low words count there (of the arg and of the rule's values).
    const bits = abi === 'SCMP_ARCH_X86' ? 32 : 64;
    const ok = r.args.every((c) => {
      const a = BigInt.asUintN(bits, args[c.index] ?? 0n);
      const v = BigInt.asUintN(bits, BigInt(c.value));
      switch (c.op) {
        case 'SCMP_CMP_EQ': return a === v;
        case 'SCMP_CMP_NE': return a !== v;
        case 'SCMP_CMP_LT': return a < v;
        case 'SCMP_CMP_LE': return a <= v;
        case 'SCMP_CMP_GT': return a > v;
        case 'SCMP_CMP_GE': return a >= v;
        case 'SCMP_CMP_MASKED_EQ': return (a & v) === BigInt.asUintN(bits, BigInt(c.valueTwo ?? 0));
        default: throw new Error(`bad op ${c.op}`);
      }
    });
    if (ok) return r.act;
  }
  return def;
}

/** The engines' profile format to OCI: shared with make-bundle (src/bundle/seccomp-profile.ts). */
export { engineProfileToOci as dockerProfileToOci } from '../../../src/bundle/seccomp-profile';
