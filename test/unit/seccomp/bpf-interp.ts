// A classic BPF interpreter for seccomp programs, limited to what seccomp accepts (no packet loads,
// scratch memory and X are supported for completeness), used to check compiled filters without root.

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: bigint[];
}

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function decode(filter: Buffer): Insn[] {
  if (filter.length % 8 !== 0) throw new Error('filter length is not a multiple of 8');
  const out: Insn[] = [];
  for (let i = 0; i < filter.length; i += 8) {
    out.push({ code: filter.readUInt16LE(i), jt: filter[i + 2], jf: filter[i + 3], k: filter.readUInt32LE(i + 4) });
  }
  return out;
}

function dataWords(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  const args = d.args ?? [];
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, args[i] ?? 0n), 16 + 8 * i);
  return b;
}

/** Runs `filter` on `d`; returns the u32 the program returns. Throws on anything the kernel would reject. */
export function run(filter: Buffer | Insn[], d: SeccompData, stats?: { steps: number }): number {
  const prog = Buffer.isBuffer(filter) ? decode(filter) : filter;
  if (prog.length === 0 || prog.length > 4096) throw new Error(`bad program length ${prog.length}`);
  const data = dataWords(d);
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  let pc = 0;
  for (let steps = 0; ; steps++) {
    if (pc < 0 || pc >= prog.length) throw new Error(`pc ${pc} out of program`);
    if (stats) stats.steps = steps + 1;
    const { code, jt, jf, k } = prog[pc];
    const jump = (cond: boolean) => {
      pc += 1 + (cond ? jt : jf);
    };
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`bad load offset ${k}`);
        A = data.readUInt32LE(k);
        pc++;
        break;
      case 0x80: // ld #len
        A = 64;
        pc++;
        break;
      case 0x00: // ld #k
        A = k;
        pc++;
        break;
      case 0x01: // ldx #k
        X = k;
        pc++;
        break;
      case 0x60: // ld M[k]
        A = mem[k];
        pc++;
        break;
      case 0x02: // st M[k]
        mem[k] = A;
        pc++;
        break;
      case 0x54: // and #k
        A = (A & k) >>> 0;
        pc++;
        break;
      case 0x44: // or #k
        A = (A | k) >>> 0;
        pc++;
        break;
      case 0x05: // ja k
        pc += 1 + k;
        break;
      case 0x15: jump(A === k); break; // jeq #k
      case 0x25: jump(A > k); break; // jgt #k
      case 0x35: jump(A >= k); break; // jge #k
      case 0x45: jump((A & k) !== 0); break; // jset #k
      case 0x1d: jump(A === X); break;
      case 0x06: // ret #k
        return k >>> 0;
      case 0x16: // ret a
        return A >>> 0;
      default:
        throw new Error(`unsupported opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}

/** Static checks the kernel makes (bpf_check_classic + seccomp_check_filter) for the opcodes we emit. */
export function validate(filter: Buffer): void {
  const prog = decode(filter);
  if (prog.length === 0 || prog.length > 4096) throw new Error(`bad program length ${prog.length}`);
  const allowed = new Set([0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06]);
  prog.forEach(({ code, jt, jf, k }, pc) => {
    if (!allowed.has(code)) throw new Error(`opcode 0x${code.toString(16)} at ${pc} not allowed`);
    if (code === 0x20 && (k % 4 !== 0 || k >= 64)) throw new Error(`bad load offset ${k} at ${pc}`);
    if (code === 0x05 && pc + 1 + k >= prog.length) throw new Error(`ja out of program at ${pc}`);
    if ((code & 0x07) === 0x05 && code !== 0x05 && (pc + 1 + jt >= prog.length || pc + 1 + jf >= prog.length)) {
      throw new Error(`jump out of program at ${pc}`);
    }
  });
  if (prog[prog.length - 1].code !== 0x06) throw new Error('last instruction is not a return');
}
