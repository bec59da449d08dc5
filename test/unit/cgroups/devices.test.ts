import { describe, expect, it } from 'vitest';
import {
  BPF_DEVCG_ACC_MKNOD as M,
  BPF_DEVCG_ACC_READ as R,
  BPF_DEVCG_ACC_WRITE as W,
  BPF_DEVCG_DEV_BLOCK as BLK,
  BPF_DEVCG_DEV_CHAR as CHR,
  compileDeviceFilter,
  decideDevice,
  defaultAllowedDevices,
  normalizeRule,
} from '../../../src/runtime/cgroups/devices';
import type { DeviceRule } from '../../../src/runtime/cgroups/types';
import { ConfigError } from '../../../src/runtime/errors';

/** A tiny eBPF interpreter: just the opcodes a device filter may use; anything else fails the test. */
function run(prog: Buffer, type: number, major: number, minor: number, access: number): number {
  const ctx = [(access << 16) | type, major, minor];
  const reg = new Array<bigint>(11).fill(0n);
  const MASK = (1n << 64n) - 1n;
  const n = prog.length / 8;
  for (let pc = 0, steps = 0; pc < n; pc++) {
    if (++steps > 100_000) throw new Error('loop');
    const code = prog[pc * 8];
    const dst = prog[pc * 8 + 1] & 0xf;
    const src = prog[pc * 8 + 1] >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = BigInt(prog.readInt32LE(pc * 8 + 4)) & MASK; // sign-extended to 64 bits
    switch (code) {
      case 0x61: // ldx w
        if (src !== 1 || off % 4 || off < 0 || off > 8) throw new Error(`bad ctx load at ${pc}`);
        reg[dst] = BigInt(ctx[off / 4] >>> 0);
        break;
      case 0xb7: reg[dst] = imm; break; // mov k
      case 0xbf: reg[dst] = reg[src]; break; // mov x
      case 0x57: reg[dst] &= imm; break; // and k
      case 0x77: reg[dst] >>= imm; break; // rsh k
      case 0x05: pc += off; break; // ja
      case 0x15: if (reg[dst] === imm) pc += off; break; // jeq k
      case 0x55: if (reg[dst] !== imm) pc += off; break; // jne k
      case 0x45: if ((reg[dst] & imm) !== 0n) pc += off; break; // jset k
      case 0x95: return Number(reg[0]); // exit
      default: throw new Error(`opcode 0x${code.toString(16)} at ${pc}`);
    }
    if (pc + 1 > n || pc + 1 < 0) throw new Error('jump out of program');
  }
  throw new Error('fell off the end');
}

const allow = (type: string, major?: number, minor?: number, access = 'rwm'): DeviceRule => ({ allow: true, type, major, minor, access });
const deny = (type: string, major?: number, minor?: number, access = 'rwm'): DeviceRule => ({ allow: false, type, major, minor, access });
const DENY_ALL: DeviceRule = { allow: false, access: 'rwm' };

function check(rules: DeviceRule[], cases: [number, number, number, number, boolean][]): void {
  const prog = compileDeviceFilter(rules);
  expect(prog.length % 8).toBe(0);
  const norm = rules.map((r, i) => normalizeRule(r, `d[${i}]`));
  for (const [t, ma, mi, acc, want] of cases) {
    expect({ dev: [t, ma, mi, acc], got: run(prog, t, ma, mi, acc) }).toEqual({ dev: [t, ma, mi, acc], got: want ? 1 : 0 });
    expect(decideDevice(norm, t, ma, mi, acc)).toBe(want);
  }
}

describe('device filter', () => {
  it('allows everything without rules (the v1 initial state)', () => {
    check([], [[CHR, 1, 3, R | W, true], [BLK, 8, 0, M, true]]);
  });
  it('deny-all then the defaults', () => {
    check([DENY_ALL, ...defaultAllowedDevices()], [
      [CHR, 1, 3, R | W, true], // null
      [CHR, 1, 9, R, true], // urandom
      [CHR, 136, 4, R | W, true], // pts/4
      [CHR, 5, 2, R | W, true], // ptmx
      [CHR, 10, 200, R, false], // tun: not in the defaults
      [BLK, 8, 0, R, false], // sda
      [BLK, 8, 0, M, true], // mknod is allowed
      [CHR, 4, 1, M, true],
      [CHR, 4, 1, M | R, false], // but not opening it
    ]);
  });
  it('the last matching rule wins', () => {
    check([DENY_ALL, allow('c', 1, 3), deny('c', 1, 3)], [[CHR, 1, 3, R, false]]);
    check([DENY_ALL, deny('c', 1, 3), allow('c', 1, 3)], [[CHR, 1, 3, R, true]]);
    check([allow('a'), deny('c', 1, undefined)], [[CHR, 1, 3, R, false], [CHR, 2, 3, R, true], [BLK, 1, 3, R, true]]);
    // a later match-all resets everything before it
    check([DENY_ALL, allow('c', 1, 3), DENY_ALL], [[CHR, 1, 3, R, false]]);
    check([allow('c', 1, 3), { allow: true }], [[BLK, 9, 9, R | W | M, true]]);
  });
  it('decides each access bit separately', () => {
    const rules = [DENY_ALL, allow('c', 1, 3, 'rw'), deny('c', 1, 3, 'w')];
    check(rules, [[CHR, 1, 3, R, true], [CHR, 1, 3, W, false], [CHR, 1, 3, R | W, false], [CHR, 1, 3, M, false]]);
    check([DENY_ALL, allow('c', 1, 3, 'r'), allow('c', 1, 3, 'w')], [[CHR, 1, 3, R | W, true], [CHR, 1, 3, M | R, false]]);
  });
  it('wildcards: absent, null and -1 major/minor; type a', () => {
    check([DENY_ALL, allow('b', -1, 0, 'r'), { allow: true, type: 'c', major: 7, minor: null, access: 'r' }], [
      [BLK, 8, 0, R, true],
      [BLK, 8, 1, R, false],
      [CHR, 7, 123, R, true],
      [CHR, 8, 0, R, false],
    ]);
    check([DENY_ALL, allow('a', 1, 3, 'r')], [[CHR, 1, 3, R, true], [BLK, 1, 3, R, true], [BLK, 1, 4, R, false]]);
  });
  it('handles large device numbers (no sign extension surprises)', () => {
    check([DENY_ALL, allow('c', 4095, 1048575)], [[CHR, 4095, 1048575, R, true], [CHR, 4095, 1048574, R, false]]);
  });
  it('rejects bad rules with the JSON path', () => {
    const bad: [DeviceRule, string][] = [
      [{ allow: true, type: 'x' }, 'linux.resources.devices[1].type'],
      [{ allow: true, access: 'rx' }, 'linux.resources.devices[1].access'],
      [{ allow: true, access: '' }, 'linux.resources.devices[1].access'],
      [{ allow: true, major: -2 }, 'linux.resources.devices[1].major'],
      [{ allow: true, minor: 1.5 }, 'linux.resources.devices[1].minor'],
      [{ allow: true, minor: 2 ** 31 }, 'linux.resources.devices[1].minor'],
      [{ allow: 'yes' } as unknown as DeviceRule, 'linux.resources.devices[1].allow'],
    ];
    for (const [rule, where] of bad) {
      try {
        compileDeviceFilter([DENY_ALL, rule]);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).where).toBe(where);
      }
    }
  });
});
