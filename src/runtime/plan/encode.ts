import { Op, type OpName } from './ops';

/** One field of a plan record; see native/plan.h for the wire format. */
export type Field =
  | { u64: number | bigint }
  | { str: string }
  | { blob: Uint8Array }
  | { strv: string[] }
  | { u64v: Array<number | bigint> };

export interface PlanStep {
  op: OpName;
  /** JSON path (or other context) that errors from this step name. */
  where: string;
  args: Field[];
}

/** A list of steps that tsrunc-init executes in order. */
export class Plan {
  readonly steps: PlanStep[] = [];

  add(op: OpName, where: string, ...args: Field[]): this {
    this.steps.push({ op, where, args });
    return this;
  }

  /**
   * One buffer, sized first and then written in place: a Buffer per field (and a concat per record)
   * cost create ~2 ms and ~200 KB of young-generation garbage, enough to bring on a scavenge.
   */
  encode(): Buffer {
    const sizes = this.steps.map(recordSize);
    let size = 0;
    for (const n of sizes) size += 8 + n;
    const out = Buffer.alloc(size);
    let at = 0;
    for (const [i, step] of this.steps.entries()) {
      out.writeUInt32LE(Op[step.op], at);
      out.writeUInt32LE(sizes[i]!, at + 4);
      at = writeStr(out, at + 8, step.where);
      for (const f of step.args) at = writeField(out, at, f);
    }
    return out;
  }
}

export const u64 = (v: number | bigint): Field => ({ u64: v });
export const s = (v: string): Field => ({ str: v });
export const blob = (v: Uint8Array): Field => ({ blob: v });
export const strv = (v: string[]): Field => ({ strv: v });
export const u64v = (v: Array<number | bigint>): Field => ({ u64v: v });

function recordSize(step: PlanStep): number {
  let n = strSize(step.where);
  for (const f of step.args) n += fieldSize(f);
  return n;
}

function fieldSize(f: Field): number {
  if ('u64' in f) return 8;
  if ('str' in f) return strSize(f.str);
  if ('blob' in f) return 4 + f.blob.length;
  if ('strv' in f) {
    let n = 4;
    for (const v of f.strv) n += strSize(v);
    return n;
  }
  return 4 + 8 * f.u64v.length;
}

function strSize(v: string): number {
  if (v.includes('\0')) throw new Error(`string contains a NUL byte: ${JSON.stringify(v)}`);
  return 4 + Buffer.byteLength(v, 'utf8') + 1;
}

function writeField(out: Buffer, at: number, f: Field): number {
  if ('u64' in f) return writeU64(out, at, f.u64);
  if ('str' in f) return writeStr(out, at, f.str);
  if ('blob' in f) {
    out.writeUInt32LE(f.blob.length, at);
    out.set(f.blob, at + 4);
    return at + 4 + f.blob.length;
  }
  if ('strv' in f) {
    at = out.writeUInt32LE(f.strv.length, at);
    for (const v of f.strv) at = writeStr(out, at, v);
    return at;
  }
  at = out.writeUInt32LE(f.u64v.length, at);
  for (const v of f.u64v) at = writeU64(out, at, v);
  return at;
}

function writeU64(out: Buffer, at: number, v: number | bigint): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
    out.writeUInt32LE(v % 0x1_0000_0000, at);
    out.writeUInt32LE(Math.floor(v / 0x1_0000_0000), at + 4);
    return at + 8;
  }
  // Negative numbers travel as two's complement (oomScoreAdj, fd -1).
  return out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), at);
}

/** u32 length (with the NUL), the UTF-8 bytes, NUL (the buffer is zeroed: the NUL is already there). */
function writeStr(out: Buffer, at: number, v: string): number {
  const n = out.write(v, at + 4, 'utf8');
  out.writeUInt32LE(n + 1, at);
  return at + 4 + n + 1;
}
