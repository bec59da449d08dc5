// Compiles an OCI `linux.seccomp` object into a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
//
// Semantics (chosen to match runc + libseccomp where they are defined):
// - The filter covers the listed architectures plus the native one (libseccomp always keeps the native arch).
//   A syscall made under any other audit arch gets SECCOMP_RET_KILL_PROCESS. libseccomp's default "bad arch"
//   action is SCMP_ACT_KILL (kill the thread); we kill the whole process, which is strictly safer than
//   leaving a process with a thread silently gone.
// - x86_64 and x32 share AUDIT_ARCH_X86_64 and differ by __X32_SYSCALL_BIT in the syscall number: numbers with
//   the bit only match x32 rules, numbers without it only x86_64 rules; a half that is not in the filter is a
//   bad arch, except nr -1 (0xffffffff, a syscall skipped by a tracer) which gets the default action.
// - Syscall names unknown on an architecture are skipped for that architecture, as runc does (profiles list
//   names for every arch at once, e.g. `_llseek` exists only on 32-bit ones; newer names on older tables).
// - A rule whose action equals the default action is skipped (runc does so; libseccomp refuses such rules).
// - Rules of one syscall: an unconditional rule wins over conditional ones (libseccomp's rule database
//   drops conditions once a syscall has an unconditional rule; the first unconditional rule is kept);
//   otherwise the conditional rules are tried in config order and the first whose args all match decides
//   (libseccomp leaves overlapping conditional rules with different actions unspecified).
// - Several args in one rule are ANDed, including two conditions on the same index (libseccomp 2.5 refuses
//   those with EINVAL, so runc splits them into separate, ORed rules; AND is what the config says).
// - Args are compared as u64 (seccomp_data.args[i], low word at +0, high word at +4) on x86_64 and x32.
//   On i386 only the low 32 bits of the arg and of the value are compared, as libseccomp does for 32-bit
//   ABIs: the kernel takes 32-bit args there and the upper register halves carry no meaning. libseccomp
//   also treats x32 as 32-bit; we do not, since x32 runs in 64-bit mode and most of its syscalls read
//   full 64-bit registers, so a low-word check could be bypassed through the high word.
import { ConfigError, RuntimeError } from '../errors';
import { Assembler, BPF_JEQ_K, BPF_JGE_K, BPF_JGT_K, type Label } from './bpf';
import {
  ACTIONS, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, BPF_MAXINSNS, DATA_ARCH, DATA_ARGS, DATA_NR, EPERM, FLAGS,
  OPERATORS, OTHER_ARCHS, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_TRACE, SECCOMP_RET_USER_NOTIF, SUPPORTED_ARCHS, X32_SYSCALL_BIT,
  type Operator, type SupportedArch,
} from './constants';
import { syscallsX32, syscallsX86, syscallsX86_64 } from './tables';
import type { CompileOptions, CompiledSeccomp, SeccompConfig } from './types';

const BAD_ARCH_ACTION = SECCOMP_RET_KILL_PROCESS;
const U64_MAX = (1n << 64n) - 1n;

const TABLES: Record<SupportedArch, () => ReadonlyMap<string, number>> = {
  SCMP_ARCH_X86_64: syscallsX86_64,
  SCMP_ARCH_X86: syscallsX86,
  SCMP_ARCH_X32: syscallsX32,
};

interface Cond {
  index: number;
  op: Operator;
  value: bigint;
  valueTwo: bigint;
}
interface Rule {
  action: number;
  conds: Cond[];
}
type Handler = { kind: 'ret'; action: number } | { kind: 'chain'; rules: Rule[] };

export function nativeSeccompArch(arch: string = process.arch): string {
  switch (arch) {
    case 'x64': return 'SCMP_ARCH_X86_64';
    case 'ia32': return 'SCMP_ARCH_X86';
    case 'arm64': return 'SCMP_ARCH_AARCH64';
    case 'arm': return 'SCMP_ARCH_ARM';
    case 'ppc64': return 'SCMP_ARCH_PPC64LE';
    case 's390x': return 'SCMP_ARCH_S390X';
    case 'riscv64': return 'SCMP_ARCH_RISCV64';
    case 'loong64': return 'SCMP_ARCH_LOONGARCH64';
    default: return `unknown (${arch})`;
  }
}

export function compileSeccomp(
  seccomp: SeccompConfig,
  where = 'linux.seccomp',
  options: CompileOptions = {},
): CompiledSeccomp {
  if (typeof seccomp !== 'object' || seccomp === null || Array.isArray(seccomp)) {
    throw new ConfigError(where, 'must be an object');
  }
  const defaultAction = resolveAction(
    seccomp.defaultAction, seccomp.defaultErrnoRet, `${where}.defaultAction`, `${where}.defaultErrnoRet`,
  );
  if (defaultAction === SECCOMP_RET_USER_NOTIF) {
    // Every syscall of the process, including those the runtime makes after loading the filter, would
    // wait for the listener; runc refuses this too.
    throw new ConfigError(`${where}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  }

  const archs = resolveArchs(seccomp.architectures, `${where}.architectures`, options.nativeArch);
  let flags = resolveFlags(seccomp.flags, `${where}.flags`);
  const rules = resolveRules(seccomp.syscalls, `${where}.syscalls`);

  const usesNotify = rules.some((r) => r.rule.action === SECCOMP_RET_USER_NOTIF);
  if (usesNotify) {
    if (typeof seccomp.listenerPath !== 'string' || seccomp.listenerPath === '') {
      throw new ConfigError(`${where}.listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
    }
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // The kernel refuses TSYNC together with NEW_LISTENER unless TSYNC_ESRCH says how to report failure.
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  } else {
    // Without a notify rule no listener is made: these flags would only make the kernel create an
    // unwanted fd (NEW_LISTENER) or fail with EINVAL (WAIT_KILLABLE_RECV needs NEW_LISTENER).
    flags &= ~(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }
  if (seccomp.listenerPath !== undefined && typeof seccomp.listenerPath !== 'string') {
    throw new ConfigError(`${where}.listenerPath`, 'must be a string');
  }
  if (seccomp.listenerMetadata !== undefined && typeof seccomp.listenerMetadata !== 'string') {
    throw new ConfigError(`${where}.listenerMetadata`, 'must be a string');
  }

  const handlers = (arch: SupportedArch) => buildHandlers(TABLES[arch](), rules, defaultAction);
  const asm = new Assembler();
  asm.load(DATA_ARCH);
  const sections: { audit: number; label: Label; emit: () => void }[] = [];
  const has64 = archs.has('SCMP_ARCH_X86_64');
  const hasX32 = archs.has('SCMP_ARCH_X32');
  if (has64 || hasX32) {
    sections.push({
      audit: AUDIT_ARCH_X86_64,
      label: asm.label(),
      emit: () => {
        const high = asm.label();
        const notMinus1 = asm.label();
        asm.jump(BPF_JGE_K, X32_SYSCALL_BIT, high, null);
        if (has64) emitSearch(asm, handlers('SCMP_ARCH_X86_64'), 0, X32_SYSCALL_BIT, defaultAction, true);
        else asm.ret(BAD_ARCH_ACTION);
        asm.place(high);
        asm.jump(BPF_JEQ_K, 0xffffffff, null, notMinus1);
        asm.ret(defaultAction);
        asm.place(notMinus1);
        if (hasX32) emitSearch(asm, handlers('SCMP_ARCH_X32'), X32_SYSCALL_BIT, 0xffffffff, defaultAction, true);
        else asm.ret(BAD_ARCH_ACTION);
      },
    });
  }
  if (archs.has('SCMP_ARCH_X86')) {
    sections.push({
      audit: AUDIT_ARCH_I386,
      label: asm.label(),
      emit: () => emitSearch(asm, handlers('SCMP_ARCH_X86'), 0, 0x100000000, defaultAction, false),
    });
  }
  for (const s of sections) asm.jump(BPF_JEQ_K, s.audit, s.label, null);
  asm.ret(BAD_ARCH_ACTION);
  for (const s of sections) {
    asm.place(s.label);
    asm.load(DATA_NR);
    s.emit();
  }

  const filter = asm.assemble();
  const instructions = filter.length / 8;
  if (instructions > BPF_MAXINSNS) {
    throw new ConfigError(where, `compiles to ${instructions} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
  }
  return { filter, flags, instructions, usesNotify };
}

function resolveAction(name: unknown, errnoRet: unknown, where: string, errnoWhere: string): number {
  if (typeof name !== 'string' || !Object.hasOwn(ACTIONS, name)) {
    throw new ConfigError(where, `unknown action ${JSON.stringify(name)}`);
  }
  const base = ACTIONS[name];
  // errnoRet is only meaningful for ERRNO (the errno) and TRACE (the tracer's message); config-linux.md
  // makes it an error elsewhere.
  if (base !== SECCOMP_RET_ERRNO && base !== SECCOMP_RET_TRACE) {
    if (errnoRet !== undefined && errnoRet !== null) throw new ConfigError(errnoWhere, `${name} takes no errnoRet`);
    return base;
  }
  if (errnoRet === undefined || errnoRet === null) return (base | EPERM) >>> 0;
  if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff) {
    throw new ConfigError(errnoWhere, `must be an integer from 0 to 65535, got ${JSON.stringify(errnoRet)}`);
  }
  return (base | errnoRet) >>> 0;
}

function resolveArchs(list: unknown, where: string, nativeArch?: string): Set<SupportedArch> {
  const native = nativeArch ?? nativeSeccompArch();
  if (!(SUPPORTED_ARCHS as readonly string[]).includes(native)) {
    throw new RuntimeError(`seccomp: no syscall tables for the native architecture ${native}`);
  }
  const out = new Set<SupportedArch>([native as SupportedArch]);
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new ConfigError(where, 'must be an array of architecture names');
  list.forEach((a, i) => {
    if ((SUPPORTED_ARCHS as readonly unknown[]).includes(a)) out.add(a as SupportedArch);
    else if (typeof a !== 'string' || !OTHER_ARCHS.has(a)) {
      throw new ConfigError(`${where}[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
    }
    // Else a real arch without tables here: see OTHER_ARCHS.
  });
  return out;
}

function resolveFlags(list: unknown, where: string): number {
  if (list === undefined || list === null) return 0;
  if (!Array.isArray(list)) throw new ConfigError(where, 'must be an array of flag names');
  let bits = 0;
  list.forEach((f, i) => {
    if (typeof f !== 'string' || !Object.hasOwn(FLAGS, f)) {
      throw new ConfigError(`${where}[${i}]`, `unknown seccomp flag ${JSON.stringify(f)}`);
    }
    bits |= FLAGS[f].bit;
  });
  return bits;
}

function toU64(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw new ConfigError(where, `must be a 64-bit unsigned integer, got ${v}`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 64) {
    throw new ConfigError(where, `must be a 64-bit unsigned integer, got ${JSON.stringify(v)}`);
  }
  // JSON.parse rounds 18446744073709551615 (u64 max, "-1") up to 2^64; take it as meant.
  return v === 2 ** 64 ? U64_MAX : BigInt(v);
}

function resolveRules(list: unknown, where: string): { names: string[]; rule: Rule }[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ConfigError(where, 'must be an array');
  return list.map((sc, i) => {
    const w = `${where}[${i}]`;
    if (typeof sc !== 'object' || sc === null) throw new ConfigError(w, 'must be an object');
    const { names, args } = sc as { names: unknown; args: unknown };
    if (!Array.isArray(names) || names.length === 0) {
      throw new ConfigError(`${w}.names`, 'must be a non-empty array of syscall names');
    }
    names.forEach((n, j) => {
      if (typeof n !== 'string' || n === '') throw new ConfigError(`${w}.names[${j}]`, 'must be a syscall name');
    });
    const action = resolveAction(sc.action, sc.errnoRet, `${w}.action`, `${w}.errnoRet`);
    if (args !== undefined && args !== null && !Array.isArray(args)) {
      throw new ConfigError(`${w}.args`, 'must be an array');
    }
    const conds = ((args ?? []) as unknown[]).map((a, j): Cond => {
      const aw = `${w}.args[${j}]`;
      if (typeof a !== 'object' || a === null) throw new ConfigError(aw, 'must be an object');
      const { index, op, value, valueTwo } = a as Record<string, unknown>;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
        throw new ConfigError(`${aw}.index`, `must be an argument index from 0 to 5, got ${JSON.stringify(index)}`);
      }
      if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
        throw new ConfigError(`${aw}.op`, `unknown operator ${JSON.stringify(op)}`);
      }
      return {
        index,
        op: op as Operator,
        value: toU64(value, `${aw}.value`),
        valueTwo: valueTwo === undefined || valueTwo === null ? 0n : toU64(valueTwo, `${aw}.valueTwo`),
      };
    });
    return { names: names as string[], rule: { action, conds } };
  });
}

/** Per syscall number of one arch: what to do (numbers absent here get the default action). */
function buildHandlers(
  table: ReadonlyMap<string, number>,
  rules: { names: string[]; rule: Rule }[],
  defaultAction: number,
): Map<number, Handler> {
  // One rule per syscall is the common case: kept as is, a list only from the second (a profile
  // names ~400 syscalls per arch, and an array and a handler each made ~250 KB of garbage per arch).
  const perNr = new Map<number, Rule | Rule[]>();
  for (const { names, rule } of rules) {
    if (rule.action === defaultAction) continue;
    for (const name of names) {
      const nr = table.get(name);
      if (nr === undefined) continue; // unknown on this arch: skipped, see the header comment
      const had = perNr.get(nr);
      if (had === undefined) perNr.set(nr, rule);
      else if (Array.isArray(had)) {
        if (!had.includes(rule)) had.push(rule);
      } else if (had !== rule) perNr.set(nr, [had, rule]);
    }
  }
  const rets = new Map<number, Handler>(); // one 'ret' handler per action, shared
  const ret = (action: number): Handler => {
    let h = rets.get(action);
    if (!h) rets.set(action, (h = { kind: 'ret', action }));
    return h;
  };
  const out = new Map<number, Handler>();
  for (const [nr, r] of perNr) {
    if (!Array.isArray(r)) out.set(nr, r.conds.length === 0 ? ret(r.action) : { kind: 'chain', rules: [r] });
    else {
      const uncond = r.find((x) => x.conds.length === 0);
      out.set(nr, uncond ? ret(uncond.action) : { kind: 'chain', rules: r });
    }
  }
  return out;
}

function handlerKey(h: Handler | undefined, defaultAction: number): string {
  if (!h) return `ret:${defaultAction}`;
  if (h.kind === 'ret') return `ret:${h.action}`;
  return `chain:${JSON.stringify(h.rules, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
}

/**
 * Emits a binary search over [lo, hi) (the accumulator holds the syscall number, known to lie in that range)
 * down to runs of numbers with the same handler: about two instructions per run instead of one per syscall.
 */
function emitSearch(
  asm: Assembler,
  handlers: Map<number, Handler>,
  lo: number,
  hi: number,
  defaultAction: number,
  wideArgs: boolean,
): void {
  const runs: { start: number; key: string; handler: Handler | undefined }[] = [];
  const push = (start: number, handler: Handler | undefined) => {
    const key = handlerKey(handler, defaultAction);
    if (runs.length > 0 && runs[runs.length - 1].start === start) runs.pop(); // e.g. a rule for nr == lo
    if (runs.length > 0 && runs[runs.length - 1].key === key) return;
    runs.push({ start, key, handler });
  };
  push(lo, undefined);
  const nrs = [...handlers.keys()].filter((n) => n >= lo && n < hi).sort((a, b) => a - b);
  for (const nr of nrs) {
    push(nr, handlers.get(nr));
    if (nr + 1 < hi && !handlers.has(nr + 1)) push(nr + 1, undefined);
  }
  const emit = (from: number, to: number): void => {
    if (to - from === 1) {
      emitHandler(asm, runs[from].handler, defaultAction, wideArgs);
      return;
    }
    const mid = (from + to) >>> 1;
    const right = asm.label();
    asm.jump(BPF_JGE_K, runs[mid].start, right, null);
    emit(from, mid);
    asm.place(right);
    emit(mid, to);
  };
  emit(0, runs.length);
}

function emitHandler(asm: Assembler, h: Handler | undefined, defaultAction: number, wideArgs: boolean): void {
  if (!h) return asm.ret(defaultAction);
  if (h.kind === 'ret') return asm.ret(h.action);
  for (const rule of h.rules) {
    const next = asm.label();
    for (const c of rule.conds) (wideArgs ? emitCond : emitCond32)(asm, c, next);
    asm.ret(rule.action);
    asm.place(next);
  }
  asm.ret(defaultAction);
}

const lo32 = (v: bigint) => Number(v & 0xffffffffn);

/** emitCond for 32-bit ABIs: only the low words of the arg and of the value/valueTwo. */
function emitCond32(asm: Assembler, c: Cond, fail: Label): void {
  const v = lo32(c.value);
  asm.load(DATA_ARGS + 8 * c.index);
  switch (c.op) {
    case 'SCMP_CMP_EQ': return asm.jump(BPF_JEQ_K, v, null, fail);
    case 'SCMP_CMP_NE': return asm.jump(BPF_JEQ_K, v, fail, null);
    case 'SCMP_CMP_GT': return asm.jump(BPF_JGT_K, v, null, fail);
    case 'SCMP_CMP_GE': return asm.jump(BPF_JGE_K, v, null, fail);
    case 'SCMP_CMP_LT': return asm.jump(BPF_JGE_K, v, fail, null);
    case 'SCMP_CMP_LE': return asm.jump(BPF_JGT_K, v, fail, null);
    case 'SCMP_CMP_MASKED_EQ':
      if (v !== 0xffffffff) asm.and(v);
      return asm.jump(BPF_JEQ_K, lo32(c.valueTwo), null, fail);
  }
}
const hi32 = (v: bigint) => Number(v >> 32n);

/** Falls through when the condition holds, jumps to `fail` otherwise. The accumulator is clobbered. */
function emitCond(asm: Assembler, c: Cond, fail: Label): void {
  const loOff = DATA_ARGS + 8 * c.index;
  const hiOff = loOff + 4;
  const vlo = lo32(c.value);
  const vhi = hi32(c.value);
  const ok = asm.label();
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      asm.load(hiOff);
      asm.jump(BPF_JEQ_K, vhi, null, fail);
      asm.load(loOff);
      asm.jump(BPF_JEQ_K, vlo, null, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.load(hiOff);
      asm.jump(BPF_JEQ_K, vhi, null, ok);
      asm.load(loOff);
      asm.jump(BPF_JEQ_K, vlo, fail, null);
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      // hi > vhi: true; hi < vhi: false; equal: decided by the low words.
      asm.load(hiOff);
      asm.jump(BPF_JGT_K, vhi, ok, null);
      asm.jump(BPF_JEQ_K, vhi, null, fail);
      asm.load(loOff);
      asm.jump(c.op === 'SCMP_CMP_GT' ? BPF_JGT_K : BPF_JGE_K, vlo, null, fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      asm.load(hiOff);
      asm.jump(BPF_JGT_K, vhi, fail, null);
      asm.jump(BPF_JEQ_K, vhi, null, ok);
      asm.load(loOff);
      asm.jump(c.op === 'SCMP_CMP_LT' ? BPF_JGE_K : BPF_JGT_K, vlo, fail, null);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == valueTwo, word by word; a word with mask 0 and datum 0 always holds.
      const words: [number, number, number][] = [
        [hiOff, vhi, hi32(c.valueTwo)],
        [loOff, vlo, lo32(c.valueTwo)],
      ];
      for (const [off, mask, datum] of words) {
        if (mask === 0 && datum === 0) continue;
        asm.load(off);
        if (mask !== 0xffffffff) asm.and(mask);
        asm.jump(BPF_JEQ_K, datum, null, fail);
      }
      break;
    }
  }
  asm.place(ok);
}
