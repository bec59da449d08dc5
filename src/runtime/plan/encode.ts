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

  encode(): Buffer {
    const chunks: Buffer[] = [];
    for (const step of this.steps) {
      const payload = Buffer.concat([str(step.where), ...step.args.map(encodeField)]);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(Op[step.op], 0);
      head.writeUInt32LE(payload.length, 4);
      chunks.push(head, payload);
    }
    return Buffer.concat(chunks);
  }
}

export const u64 = (v: number | bigint): Field => ({ u64: v });
export const s = (v: string): Field => ({ str: v });
export const blob = (v: Uint8Array): Field => ({ blob: v });
export const strv = (v: string[]): Field => ({ strv: v });
export const u64v = (v: Array<number | bigint>): Field => ({ u64v: v });

function encodeField(f: Field): Buffer {
  if ('u64' in f) return u64buf(f.u64);
  if ('str' in f) return str(f.str);
  if ('blob' in f) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(f.blob.length);
    return Buffer.concat([len, Buffer.from(f.blob)]);
  }
  const count = Buffer.alloc(4);
  if ('strv' in f) {
    count.writeUInt32LE(f.strv.length);
    return Buffer.concat([count, ...f.strv.map(str)]);
  }
  count.writeUInt32LE(f.u64v.length);
  return Buffer.concat([count, ...f.u64v.map(u64buf)]);
}

function u64buf(v: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  // Negative numbers travel as two's complement (oomScoreAdj, fd -1).
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
  return b;
}

function str(v: string): Buffer {
  if (v.includes('\0')) throw new Error(`string contains a NUL byte: ${JSON.stringify(v)}`);
  const bytes = Buffer.from(v + '\0', 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(bytes.length);
  return Buffer.concat([len, bytes]);
}
