// linux.resources.devices -> a BPF_PROG_TYPE_CGROUP_DEVICE eBPF program (cgroup v2 has no devices files).
//
// Semantics (cgroup v1's, as runc emulates them): rules apply in order and for each access bit
// (m, r, w) the LAST rule that matches the device and includes that bit decides. Before any rule
// everything is allowed, so lists start with a deny-all rule ({allow:false, access:"rwm"}).
// A request is allowed only when each of its bits is. Program context: struct bpf_cgroup_dev_ctx
// { u32 access_type (access << 16 | type); u32 major; u32 minor; }; return 1 = allow, 0 = deny.
import { ConfigError } from '../errors';
import type { DeviceRule } from './types';

export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;

/** A rule with wildcards resolved: type 0 / major -1 / minor -1 = any. */
export interface NormalRule {
  allow: boolean;
  type: number;
  major: number;
  minor: number;
  access: number;
}

const TYPES: Record<string, number> = { a: 0, b: BPF_DEVCG_DEV_BLOCK, c: BPF_DEVCG_DEV_CHAR };
const ACCESS: Record<string, number> = { m: BPF_DEVCG_ACC_MKNOD, r: BPF_DEVCG_ACC_READ, w: BPF_DEVCG_ACC_WRITE };
const ALL_ACCESS = 7;

function wildcard(v: number | null | undefined, where: string): number {
  if (v === undefined || v === null || v === -1) return -1;
  // jne compares with a sign-extended 32-bit immediate: keep numbers below 2^31 (real ones have 12/20 bits)
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new ConfigError(where, `invalid device number ${JSON.stringify(v)}`);
  return v;
}

/** Validate and resolve one OCI rule. */
export function normalizeRule(r: DeviceRule, where: string): NormalRule {
  if (typeof r.allow !== 'boolean') throw new ConfigError(`${where}.allow`, 'must be a boolean');
  const t = r.type ?? 'a';
  if (!(t in TYPES)) throw new ConfigError(`${where}.type`, `must be "a", "b" or "c", got ${JSON.stringify(t)}`);
  const acc = r.access ?? 'rwm';
  let access = 0;
  for (const ch of acc) {
    if (!(ch in ACCESS)) throw new ConfigError(`${where}.access`, `must be letters of "rwm", got ${JSON.stringify(acc)}`);
    access |= ACCESS[ch];
  }
  if (!access) throw new ConfigError(`${where}.access`, 'must not be empty');
  return { allow: r.allow, type: TYPES[t], major: wildcard(r.major, `${where}.major`), minor: wildcard(r.minor, `${where}.minor`), access };
}

/** The device rules every container needs (runc's list), to append after the config's rules. */
export function defaultAllowedDevices(): DeviceRule[] {
  const dev = (major: number, minor: number | null, type = 'c'): DeviceRule => ({ allow: true, type, major, minor, access: 'rwm' });
  return [
    { allow: true, type: 'c', access: 'm' }, // mknod of any device; using it still needs a rule below
    { allow: true, type: 'b', access: 'm' },
    dev(1, 3), // null
    dev(1, 5), // zero
    dev(1, 7), // full
    dev(1, 8), // random
    dev(1, 9), // urandom
    dev(5, 0), // tty
    dev(5, 1), // console
    dev(5, 2), // ptmx
    dev(136, null), // pts/*
  ];
}

// eBPF opcodes used here
const LDX_W = 0x61; // r_dst = *(u32 *)(r_src + off)
const ALU64_AND_K = 0x57;
const ALU64_RSH_K = 0x77;
const ALU64_MOV_K = 0xb7;
const ALU64_MOV_X = 0xbf;
const JMP_JA = 0x05;
const JMP_JNE_K = 0x55;
const JMP_JSET_K = 0x45;
const JMP_EXIT = 0x95;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  to?: string; // jump label, resolved into off
}

/** A tiny assembler: instructions plus labels for forward jumps. */
class Asm {
  insns: Insn[] = [];
  labels = new Map<string, number>();
  private n = 0;
  emit(code: number, dst: number, src: number, off: number, imm: number, to?: string): void {
    this.insns.push({ code, dst, src, off, imm, to });
  }
  label(): string {
    return `L${this.n++}`;
  }
  place(l: string): void {
    this.labels.set(l, this.insns.length);
  }
  ret(v: number): void {
    this.emit(ALU64_MOV_K, 0, 0, 0, v);
    this.emit(JMP_EXIT, 0, 0, 0, 0);
  }
  /** Through a DataView: Buffer's write methods are JS that a short-lived CLI runs cold (~0.5 ms here). */
  bytes(): Buffer {
    const buf = Buffer.alloc(this.insns.length * 8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    this.insns.forEach((ins, i) => {
      const off = ins.to === undefined ? ins.off : this.labels.get(ins.to)! - (i + 1);
      if (off !== (off << 16) >> 16) throw new RangeError(`jump offset ${off} out of range`);
      view.setUint8(i * 8, ins.code);
      view.setUint8(i * 8 + 1, ((ins.src & 0xf) << 4) | (ins.dst & 0xf));
      view.setInt16(i * 8 + 2, off, true);
      view.setInt32(i * 8 + 4, ins.imm | 0, true);
    });
    return buf;
  }
}

// registers: r1 ctx, r2 type, r3 access, r4 major, r5 minor
function emitMatch(a: Asm, r: NormalRule, next: string): void {
  if (r.type) a.emit(JMP_JNE_K, 2, 0, 0, r.type, next);
  if (r.major >= 0) a.emit(JMP_JNE_K, 4, 0, 0, r.major, next);
  if (r.minor >= 0) a.emit(JMP_JNE_K, 5, 0, 0, r.minor, next);
}

function isMatchAll(r: NormalRule): boolean {
  return r.type === 0 && r.major < 0 && r.minor < 0;
}

/** Decide access bit `bit`: the last rule including it wins; before all rules: allowed. */
function emitBit(a: Asm, rules: NormalRule[], bit: number): void {
  const done = a.label();
  a.emit(JMP_JSET_K, 3, 0, 1, bit); // bit requested: check it (skip the next jump)
  a.emit(JMP_JA, 0, 0, 0, 0, done);
  let fallback = true;
  for (const r of [...rules].reverse()) {
    if (!(r.access & bit)) continue;
    if (isMatchAll(r)) {
      fallback = r.allow;
      break;
    }
    const next = a.label();
    emitMatch(a, r, next);
    if (r.allow) a.emit(JMP_JA, 0, 0, 0, 0, done);
    else a.ret(0);
    a.place(next);
  }
  if (!fallback) a.ret(0);
  a.place(done);
}

/** Compile rules (OCI order) into eBPF instructions (8 bytes each). `where` names the list in errors. */
export function compileDeviceFilter(rules: DeviceRule[], where = 'linux.resources.devices'): Buffer {
  const norm = rules.map((r, i) => normalizeRule(r, `${where}[${i}]`));
  const a = new Asm();
  a.emit(LDX_W, 2, 1, 0, 0); // r2 = access_type
  a.emit(ALU64_MOV_X, 3, 2, 0, 0); // r3 = access_type
  a.emit(ALU64_AND_K, 2, 0, 0, 0xffff); // r2 = type
  a.emit(ALU64_RSH_K, 3, 0, 0, 16); // r3 = access
  a.emit(LDX_W, 4, 1, 4, 0); // r4 = major
  a.emit(LDX_W, 5, 1, 8, 0); // r5 = minor
  for (const bit of [BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE]) emitBit(a, norm, bit);
  a.ret(1);
  return a.bytes();
}

/** The reference decision (for tests and debugging): same semantics, no BPF. */
export function decideDevice(rules: NormalRule[], type: number, major: number, minor: number, access: number): boolean {
  for (let bit = 1; bit <= ALL_ACCESS; bit <<= 1) {
    if (!(access & bit)) continue;
    let allowed = true;
    for (const r of rules) {
      if (!(r.access & bit)) continue;
      if ((r.type && r.type !== type) || (r.major >= 0 && r.major !== major) || (r.minor >= 0 && r.minor !== minor)) continue;
      allowed = r.allow;
    }
    if (!allowed) return false;
  }
  return true;
}

export const DEVICE_PROG_LICENSE = 'Apache-2.0';
