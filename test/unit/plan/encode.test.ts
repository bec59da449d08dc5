import { describe, expect, it } from 'vitest';
import { Plan, blob, s, strv, u64, u64v } from '../../../src/runtime/plan/encode';
import { Op } from '../../../src/runtime/plan/ops';
import { buildCreatePlan } from '../../../src/runtime/plan/build';
import type { Spec } from '../../../src/runtime/config/types';

// The wire format of native/plan.h, written out byte by byte: what tsrunc-init parses.
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u64le(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  for (let i = 0; i < 8; i++, x >>= 8n) out.push(Number(x & 0xffn));
  return out;
}
function strBytes(v: string): number[] {
  const b = [...new TextEncoder().encode(v), 0];
  return [...u32(b.length), ...b];
}

describe('Plan.encode', () => {
  it('writes records as native/plan.h reads them', () => {
    const plan = new Plan()
      .add('SETSID', 'process')
      .add('RLIMIT', 'process.rlimits[0]', u64(7), u64(2 ** 40 + 3), u64(2n ** 64n - 1n))
      .add('MOUNT', 'mounts[1]', s('tmpfs'), s('/dé/✓'), s(''), u64(-1), u64(0xffff_ffff))
      .add('HOSTNAME', 'hostname', blob(new Uint8Array([0, 1, 255])), strv(['a', '', 'ü']), strv([]), u64v([1, -100, 2n ** 63n]), u64v([]));
    const want: number[] = [];
    for (const step of plan.steps) {
      const payload = [...strBytes(step.where)];
      for (const f of step.args) {
        if ('u64' in f) payload.push(...u64le(f.u64));
        else if ('str' in f) payload.push(...strBytes(f.str));
        else if ('blob' in f) payload.push(...u32(f.blob.length), ...f.blob);
        else if ('strv' in f) payload.push(...u32(f.strv.length), ...f.strv.flatMap(strBytes));
        else payload.push(...u32(f.u64v.length), ...f.u64v.flatMap(u64le));
      }
      want.push(...u32(Op[step.op]), ...u32(payload.length), ...payload);
    }
    expect([...plan.encode()]).toEqual(want);
  });

  it('refuses a NUL in a string and a number that is no integer', () => {
    expect(() => new Plan().add('HOSTNAME', 'hostname', s('a\0b')).encode()).toThrow(/NUL byte/);
    expect(() => new Plan().add('HOSTNAME', 'a\0', s('x')).encode()).toThrow(/NUL byte/);
    expect(() => new Plan().add('UMASK', 'process.user.umask', u64(1.5)).encode()).toThrow(RangeError);
  });

  it('encodes a whole create plan to its exact size', () => {
    const spec = {
      ociVersion: '1.0.2',
      process: { args: ['/bin/sh', '-c', 'echo ✓'], cwd: '/', env: ['PATH=/bin', 'X=ü'], user: { uid: 0, gid: 0 } },
      root: { path: 'rootfs' },
      hostname: 'h',
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
      linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
    } as unknown as Spec;
    const plan = buildCreatePlan(spec, { id: 'x', rootfs: '/tmp/rootfs', preserveFds: 0, stateDirFd: 3 });
    const buf = Buffer.from(plan.encode());
    let at = 0;
    for (const step of plan.steps) {
      expect(buf.readUInt32LE(at)).toBe(Op[step.op]);
      at += 8 + buf.readUInt32LE(at + 4);
    }
    expect(at).toBe(buf.length);
  });
});
