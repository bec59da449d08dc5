// A tiny classic-BPF assembler with forward labels. Conditional jumps have 8-bit offsets, so targets
// further than 255 instructions are reached through an inserted BPF_JA (32-bit offset) trampoline.

export const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
export const BPF_ALU_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
export const BPF_JA = 0x05; // BPF_JMP | BPF_JA
export const BPF_JEQ_K = 0x15;
export const BPF_JGT_K = 0x25;
export const BPF_JGE_K = 0x35;
export const BPF_RET_K = 0x06;

/** A jump target; `null` in jt/jf means the next instruction. */
export type Label = { readonly id: number };
type Target = Label | null;

type Item =
  | { kind: 'op'; code: number; k: number }
  | { kind: 'jmp'; code: number; k: number; jt: Target; jf: Target }
  | { kind: 'ja'; to: Label }
  | { kind: 'label'; label: Label };

export class Assembler {
  private items: Item[] = [];
  private nextLabel = 0;

  label(): Label {
    return { id: this.nextLabel++ };
  }
  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }
  load(offset: number): void {
    this.items.push({ kind: 'op', code: BPF_LD_W_ABS, k: offset });
  }
  and(k: number): void {
    this.items.push({ kind: 'op', code: BPF_ALU_AND_K, k: k >>> 0 });
  }
  ret(k: number): void {
    this.items.push({ kind: 'op', code: BPF_RET_K, k: k >>> 0 });
  }
  jump(code: number, k: number, jt: Target, jf: Target): void {
    this.items.push({ kind: 'jmp', code, k: k >>> 0, jt, jf });
  }
  ja(to: Label): void {
    this.items.push({ kind: 'ja', to });
  }

  /** Lays out the program, inserting trampolines until every conditional jump fits in 8 bits. */
  assemble(): Buffer {
    let items = this.items;
    for (;;) {
      const pos = positions(items, this.nextLabel);
      // Most passes (the last always) change nothing: checked first, without building a copy.
      if (!hasFarJump(items, pos)) break;
      const next: Item[] = [];
      let changed = false;
      let index = 0;
      for (const it of items) {
        if (it.kind === 'label') {
          next.push(it);
          continue;
        }
        const here = index++;
        if (it.kind !== 'jmp') {
          next.push(it);
          continue;
        }
        const far = (t: Target) => t !== null && offsetTo(pos, t, here) > 255;
        if (!far(it.jt) && !far(it.jf)) {
          next.push(it);
          continue;
        }
        // jcond -> [ja jt] [ja jf] after:   only the far side(s) get a trampoline.
        changed = true;
        const after = this.label();
        const tramp: Item[] = [];
        const route = (t: Target): Target => {
          if (!far(t)) return t ?? after;
          const l = this.label();
          tramp.push({ kind: 'label', label: l }, { kind: 'ja', to: t as Label });
          return l;
        };
        const jt = route(it.jt);
        const jf = route(it.jf);
        next.push({ ...it, jt, jf }, ...tramp, { kind: 'label', label: after });
      }
      items = next;
      if (!changed) break;
    }
    const pos = positions(items, this.nextLabel);
    const code = items.filter((it) => it.kind !== 'label');
    const buf = Buffer.alloc(code.length * 8);
    // Through a DataView: Buffer's write methods are JS that a short-lived CLI runs cold.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    code.forEach((it, i) => {
      let c: number, jt = 0, jf = 0, k: number;
      if (it.kind === 'op') ({ code: c, k } = it);
      else if (it.kind === 'ja') {
        c = BPF_JA;
        k = offsetTo(pos, it.to, i);
      } else if (it.kind === 'jmp') {
        c = it.code;
        k = it.k;
        jt = it.jt === null ? 0 : offsetTo(pos, it.jt, i);
        jf = it.jf === null ? 0 : offsetTo(pos, it.jf, i);
      } else throw new Error('unreachable');
      if (c !== (c & 0xffff) || jt !== (jt & 0xff) || jf !== (jf & 0xff)) throw new RangeError(`BPF instruction ${i} out of range`);
      view.setUint16(i * 8, c, true);
      view.setUint8(i * 8 + 2, jt);
      view.setUint8(i * 8 + 3, jf);
      view.setUint32(i * 8 + 4, k >>> 0, true);
    });
    return buf;
  }
}

/** Where each label is (an instruction index), by label id; -1: not placed. */
function positions(items: Item[], labels: number): Int32Array {
  const pos = new Int32Array(labels).fill(-1);
  let index = 0;
  for (const it of items) {
    if (it.kind === 'label') pos[it.label.id] = index;
    else index++;
  }
  return pos;
}

function hasFarJump(items: Item[], pos: Int32Array): boolean {
  let index = 0;
  for (const it of items) {
    if (it.kind === 'label') continue;
    const here = index++;
    if (it.kind !== 'jmp') continue;
    if ((it.jt !== null && offsetTo(pos, it.jt, here) > 255) || (it.jf !== null && offsetTo(pos, it.jf, here) > 255)) return true;
  }
  return false;
}

function offsetTo(pos: Int32Array, target: Label, from: number): number {
  const at = pos[target.id];
  if (at === undefined || at < 0) throw new Error(`bpf: label ${target.id} never placed`);
  const off = at - from - 1;
  // cBPF only jumps forward; a backward target is a compiler bug, never a config problem.
  if (off < 0) throw new Error(`bpf: backward jump to label ${target.id}`);
  return off;
}
