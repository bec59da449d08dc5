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
   * One pass into one buffer (sized for the worst case, 3 bytes per UTF-16 unit), through a DataView.
   * A Buffer per field (and a concat per record) cost create ~2 ms and ~200 KB of young-generation
   * garbage, enough to bring on a scavenge; Buffer's own write methods, and a separate pass counting
   * UTF-8 lengths, are JS that a short-lived process runs cold.
   */
  encode(): Uint8Array {
    let bound = 0;
    for (const step of this.steps) bound += 8 + recordBound(step);
    const w = new Writer(bound);
    for (const step of this.steps) {
      w.u32(Op[step.op]);
      const len = w.at;
      w.u32(0);
      w.str(step.where);
      for (const f of step.args) w.field(f);
      w.view.setUint32(len, w.at - len - 4, true);
    }
    // a view, not Buffer#subarray (JS that a cold process first compiles: ~0.12 ms)
    return new Uint8Array(w.out.buffer, w.out.byteOffset, w.at);
  }
}

export const u64 = (v: number | bigint): Field => ({ u64: v });
export const s = (v: string): Field => ({ str: v });
export const blob = (v: Uint8Array): Field => ({ blob: v });
export const strv = (v: string[]): Field => ({ strv: v });
export const u64v = (v: Array<number | bigint>): Field => ({ u64v: v });

/** An upper bound of a record's payload size. */
function recordBound(step: PlanStep): number {
  let n = strBound(step.where);
  for (const f of step.args) {
    if ('u64' in f) n += 8;
    else if ('str' in f) n += strBound(f.str);
    else if ('blob' in f) n += 4 + f.blob.length;
    else if ('strv' in f) {
      n += 4;
      for (const v of f.strv) n += strBound(v);
    } else n += 4 + 8 * f.u64v.length;
  }
  return n;
}

/** u32 length, at most 3 UTF-8 bytes per UTF-16 unit, NUL. */
function strBound(v: string): number {
  return 4 + 3 * v.length + 1;
}

class Writer {
  readonly out: Buffer;
  readonly view: DataView;
  at = 0;

  constructor(size: number) {
    this.out = Buffer.alloc(size);
    this.view = new DataView(this.out.buffer, this.out.byteOffset, size);
  }

  u32(v: number): void {
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }

  u64(v: number | bigint): void {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      this.view.setUint32(this.at, v % 0x1_0000_0000, true);
      this.view.setUint32(this.at + 4, Math.floor(v / 0x1_0000_0000), true);
    } else {
      // Negative numbers travel as two's complement (oomScoreAdj, fd -1).
      this.view.setBigUint64(this.at, BigInt.asUintN(64, BigInt(v)), true);
    }
    this.at += 8;
  }

  /** Plan strings are nearly all ASCII: copied here; the buffer is zeroed, so the NUL is already there. */
  str(v: string): void {
    const start = this.at + 4;
    let n = 0;
    for (; n < v.length; n++) {
      const c = v.charCodeAt(n);
      if (c === 0 || c >= 0x80) break;
      this.out[start + n] = c;
    }
    if (n < v.length) {
      if (v.includes('\0')) throw new Error(`string contains a NUL byte: ${JSON.stringify(v)}`);
      n = this.out.write(v, start, 'utf8');
    }
    this.u32(n + 1);
    this.at = start + n + 1;
  }

  field(f: Field): void {
    if ('u64' in f) this.u64(f.u64);
    else if ('str' in f) this.str(f.str);
    else if ('blob' in f) {
      this.u32(f.blob.length);
      this.out.set(f.blob, this.at);
      this.at += f.blob.length;
    } else if ('strv' in f) {
      this.u32(f.strv.length);
      for (const v of f.strv) this.str(v);
    } else {
      this.u32(f.u64v.length);
      for (const v of f.u64v) this.u64(v);
    }
  }
}
