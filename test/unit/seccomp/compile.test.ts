import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/runtime/errors';
import { compileSeccomp, seccompFeatures, type SeccompConfig } from '../../../src/runtime/seccomp';
import { Assembler, BPF_JEQ_K } from '../../../src/runtime/seccomp/bpf';
import { syscallsX32, syscallsX86, syscallsX86_64 } from '../../../src/runtime/seccomp/tables';
const SYSCALLS_X32: Record<string, number> = Object.fromEntries(syscallsX32());
const SYSCALLS_X86: Record<string, number> = Object.fromEntries(syscallsX86());
const SYSCALLS_X86_64: Record<string, number> = Object.fromEntries(syscallsX86_64());
import { decode, run, validate } from './bpf-interp';
import { AUDIT_I386, AUDIT_X86_64, KILL_PROCESS, X32_BIT, dockerProfileToOci, evaluateJson } from './json-eval';

const ALLOW = 0x7fff0000;
const ERRNO = (e: number) => 0x50000 | e;
const X64 = { nativeArch: 'SCMP_ARCH_X86_64' };
const nr64 = (n: string) => SYSCALLS_X86_64[n];

function decide(p: SeccompConfig, nr: number, args: bigint[] = [], arch = AUDIT_X86_64): number {
  return run(compileSeccomp(p, 'linux.seccomp', X64).filter, { nr, arch, args });
}

const BOUNDARIES = [
  0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n,
  0x1fffffffen, 0x1ffffffffn, 0x200000000n, 0x8000000000000000n, 0xfffffffffffffffen, 0xffffffffffffffffn,
];
const OPS = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE'];

describe('assembler', () => {
  it('reaches targets further than 255 instructions through BPF_JA trampolines', () => {
    const asm = new Assembler();
    const far = asm.label();
    asm.load(0);
    asm.jump(BPF_JEQ_K, 7, far, null);
    for (let i = 0; i < 600; i++) asm.ret(i);
    asm.place(far);
    asm.ret(0xabcd);
    const prog = asm.assemble();
    expect(run(prog, { nr: 7, arch: 0 })).toBe(0xabcd);
    expect(run(prog, { nr: 8, arch: 0 })).toBe(0);
    expect(decode(prog).some((i) => i.code === 0x05 && i.k > 255)).toBe(true);
  });
});

describe('actions', () => {
  const cases: [string, number | undefined, number][] = [
    ['SCMP_ACT_KILL', undefined, 0],
    ['SCMP_ACT_KILL_THREAD', undefined, 0],
    ['SCMP_ACT_KILL_PROCESS', undefined, 0x80000000],
    ['SCMP_ACT_TRAP', undefined, 0x30000],
    ['SCMP_ACT_ERRNO', undefined, ERRNO(1)],
    ['SCMP_ACT_ERRNO', 38, ERRNO(38)],
    ['SCMP_ACT_ERRNO', 0, ERRNO(0)],
    ['SCMP_ACT_TRACE', undefined, 0x7ff00001],
    ['SCMP_ACT_TRACE', 1234, 0x7ff004d2],
    ['SCMP_ACT_LOG', undefined, 0x7ffc0000],
    ['SCMP_ACT_ALLOW', undefined, ALLOW],
  ];
  it.each(cases)('%s (errnoRet %s) as a rule and as the default', (action, errnoRet, want) => {
    const asRule: SeccompConfig = { defaultAction: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action, errnoRet }] };
    expect(decide(asRule, nr64('getpid'))).toBe(want);
    const asDefault: SeccompConfig = { defaultAction: action, defaultErrnoRet: errnoRet, syscalls: [{ names: ['read'], action: action === 'SCMP_ACT_LOG' ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_LOG' }] };
    expect(decide(asDefault, nr64('getpid'))).toBe(want);
  });

  it('errnoRet on an action other than ERRNO or TRACE is an error (config-linux.md)', () => {
    const p: SeccompConfig = { defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', errnoRet: 5 }] };
    expect(() => compileSeccomp(p, 'linux.seccomp', X64)).toThrow(/linux\.seccomp\.syscalls\[0\]\.errnoRet: SCMP_ACT_ALLOW takes no errnoRet/);
  });

  it('uses defaultErrnoRet only for the default action', () => {
    const p: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    expect(decide(p, nr64('getpid'))).toBe(ERRNO(38));
    expect(decide(p, nr64('mount'))).toBe(ERRNO(1));
    expect(decide(p, nr64('read'))).toBe(ALLOW);
  });

  it('NOTIFY sets usesNotify and NEW_LISTENER, and needs listenerPath', () => {
    const p: SeccompConfig = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    const c = compileSeccomp(p, 'linux.seccomp', X64);
    expect(c.usesNotify).toBe(true);
    expect(c.flags).toBe(2 | 8);
    expect(run(c.filter, { nr: nr64('mkdir'), arch: AUDIT_X86_64 })).toBe(0x7fc00000);
    expect(compileSeccomp({ ...p, flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }, '', X64).flags).toBe(1 | 8 | 16);
    expect(() => compileSeccomp({ ...p, listenerPath: undefined }, 'linux.seccomp', X64)).toThrow(/linux\.seccomp\.listenerPath/);
    const plain = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }, '', X64);
    expect(plain).toMatchObject({ usesNotify: false, flags: 4 });
  });
});

describe('argument comparisons', () => {
  for (const op of OPS) {
    it(`${op} on 64-bit values across the 32-bit split, on every arg index`, () => {
      for (const value of BOUNDARIES) {
        for (const index of [0, 5]) {
          const p: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index, value, op }] }] };
          const prog = compileSeccomp(p, '', X64).filter;
          for (const a of BOUNDARIES) {
            const args = [0n, 0n, 0n, 0n, 0n, 0n];
            args[index] = a;
            const d = { nr: nr64('ioctl'), arch: AUDIT_X86_64, args };
            expect([op, value, a, run(prog, d)]).toEqual([op, value, a, evaluateJson(p, d)]);
          }
        }
      }
    });
  }

  it('MASKED_EQ compares (arg & value) with valueTwo on both words', () => {
    const masks: [bigint, bigint][] = [
      [0x7e020000n, 0n], [0xffn, 0x10n], [0xff00000000n, 0x1200000000n], [0xffffffffffffffffn, 0x100000000n],
      [0n, 0n], [0n, 1n], [0x100000001n, 0x100000000n], [0x1n, 0x2n],
    ];
    for (const [value, valueTwo] of masks) {
      const p: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value, valueTwo, op: 'SCMP_CMP_MASKED_EQ' }] }] };
      const prog = compileSeccomp(p, '', X64).filter;
      for (const a of [...BOUNDARIES, 0x10n, 0x1210n, 0x1200000010n, 0x10000n, 0x7e020000n, 0x20000n, 3n]) {
        const d = { nr: nr64('clone'), arch: AUDIT_X86_64, args: [0n, 0n, a] };
        expect([value, valueTwo, a, run(prog, d)]).toEqual([value, valueTwo, a, evaluateJson(p, d)]);
      }
    }
  });

  it('ANDs args of a rule and tries rules of a syscall in order, an unconditional rule winning', () => {
    const p: SeccompConfig = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['openat'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }, { index: 2, value: 0x100, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0 }] },
        { names: ['openat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 3, op: 'SCMP_CMP_GE' }] },
        { names: ['openat'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 2, op: 'SCMP_CMP_GT' }, { index: 0, value: 10, op: 'SCMP_CMP_LT' }] },
        { names: ['read'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      ],
    };
    const o = nr64('openat');
    expect(decide(p, o, [3n, 0n, 0x200n])).toBe(ALLOW);
    expect(decide(p, o, [3n, 0n, 0x100n])).toBe(ERRNO(13));
    expect(decide(p, o, [2n, 0n, 0n])).toBe(ERRNO(1));
    expect(decide(p, nr64('read'), [1n])).toBe(ALLOW);
    // Two conditions on one index are ANDed (3 <= x < 10 here is shadowed by the GE rule; check the AND alone).
    const q: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [p.syscalls![2]] };
    expect([5n, 2n, 10n, 0x100000005n].map((a) => decide(q, o, [a]))).toEqual([0x7ffc0000, ERRNO(1), ERRNO(1), ERRNO(1)]);
  });

  it('skips rules whose action is the default action, as runc does', () => {
    const p: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }, { names: ['bpf'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] }] };
    expect(decide(p, nr64('bpf'), [0n])).toBe(ALLOW);
    expect(decide(p, nr64('bpf'), [1n])).toBe(ERRNO(1));
  });
});

describe('architectures', () => {
  const p: SeccompConfig = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid', '_llseek', 'arch_prctl', 'not_a_syscall'], action: 'SCMP_ACT_ALLOW' }],
  };

  it('keeps the native arch; other audit archs and the missing x32 half are killed', () => {
    const c = compileSeccomp(p, '', X64).filter;
    expect(run(c, { nr: nr64('getpid'), arch: AUDIT_X86_64 })).toBe(ALLOW);
    expect(run(c, { nr: nr64('getppid'), arch: AUDIT_X86_64 })).toBe(ERRNO(1));
    expect(run(c, { nr: SYSCALLS_X32.getpid, arch: AUDIT_X86_64 })).toBe(KILL_PROCESS);
    expect(run(c, { nr: SYSCALLS_X86.getpid, arch: AUDIT_I386 })).toBe(KILL_PROCESS);
    expect(run(c, { nr: 0, arch: 0xc00000b7 /* aarch64 */ })).toBe(KILL_PROCESS);
    expect(run(c, { nr: 0xffffffff, arch: AUDIT_X86_64 })).toBe(ERRNO(1));
  });

  it('x32 numbers only match x32 rules and x86_64 numbers only x86_64 ones', () => {
    const c = compileSeccomp({ ...p, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'] }, '', X64).filter;
    expect(run(c, { nr: SYSCALLS_X32.getpid, arch: AUDIT_X86_64 })).toBe(ALLOW);
    expect(run(c, { nr: SYSCALLS_X32.getppid, arch: AUDIT_X86_64 })).toBe(ERRNO(1));
    expect(run(c, { nr: nr64('getpid') | X32_BIT, arch: AUDIT_X86_64 })).toBe(ALLOW); // same number in both ABIs
    expect(run(c, { nr: SYSCALLS_X86._llseek, arch: AUDIT_I386 })).toBe(ALLOW);
    expect(run(c, { nr: SYSCALLS_X86.getpid, arch: AUDIT_I386 })).toBe(ALLOW);
    expect(run(c, { nr: SYSCALLS_X86.getppid, arch: AUDIT_I386 })).toBe(ERRNO(1));
    // rt_sigaction is 13 on x86_64 and 512|bit on x32: an x86_64 rule must not allow x32's 13|bit.
    const r = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X32'], syscalls: [{ names: ['rt_sigaction'], action: 'SCMP_ACT_ALLOW' }] }, '', X64).filter;
    expect(run(r, { nr: 13, arch: AUDIT_X86_64 })).toBe(ALLOW);
    expect(run(r, { nr: 13 | X32_BIT, arch: AUDIT_X86_64 })).toBe(ERRNO(1));
    expect(run(r, { nr: 512 | X32_BIT, arch: AUDIT_X86_64 })).toBe(ALLOW);
    expect(run(r, { nr: 512, arch: AUDIT_X86_64 })).toBe(ERRNO(1));
  });

  it('x86 as the native arch', () => {
    const c = compileSeccomp(p, '', { nativeArch: 'SCMP_ARCH_X86' }).filter;
    expect(run(c, { nr: SYSCALLS_X86.getpid, arch: AUDIT_I386 })).toBe(ALLOW);
    expect(run(c, { nr: nr64('getpid'), arch: AUDIT_X86_64 })).toBe(KILL_PROCESS);
  });
});

describe('bad input', () => {
  const base: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  const bad: [string, any, string][] = [
    ['unknown default action', { ...base, defaultAction: 'SCMP_ACT_NOPE' }, 'linux.seccomp.defaultAction'],
    ['NOTIFY as default', { ...base, defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, 'linux.seccomp.defaultAction'],
    ['unknown rule action', { ...base, syscalls: [{ names: ['read'], action: 'ALLOW' }] }, 'linux.seccomp.syscalls[0].action'],
    ['errnoRet out of range', { ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, 'linux.seccomp.syscalls[0].errnoRet'],
    ['defaultErrnoRet not a number', { ...base, defaultErrnoRet: 'EPERM' }, 'linux.seccomp.defaultErrnoRet'],
    ['unknown operator', { ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }] }, 'linux.seccomp.syscalls[0].args[0].op'],
    ['arg index 6', { ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, 'linux.seccomp.syscalls[0].args[0].index'],
    ['negative value', { ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, 'linux.seccomp.syscalls[0].args[0].value'],
    ['unknown arch', { ...base, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'] }, 'linux.seccomp.architectures[1]'],
    ['unknown flag', { ...base, flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, 'linux.seccomp.flags[0]'],
    ['NOTIFY without listenerPath', { ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.listenerPath'],
    ['empty names', { ...base, syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }, 'linux.seccomp.syscalls[0].names'],
  ];
  it.each(bad)('%s', (_name, cfg, where) => {
    let err: unknown;
    try {
      compileSeccomp(cfg, 'linux.seccomp', X64);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).where).toBe(where);
  });

  it('refuses programs over 4096 instructions', () => {
    const names = Object.keys(SYSCALLS_X86_64).slice(0, 300);
    const syscalls = names.flatMap((n, i) => [1, 2, 3].map((v) => ({ names: [n], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: v + 10 * i, op: "SCMP_CMP_EQ" }] })));
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, 'linux.seccomp', X64)).toThrow(/more than the kernel's limit of 4096/);
  });

  it('accepts u64 max written in JSON (which JSON.parse rounds to 2^64)', () => {
    const p = JSON.parse('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}');
    expect(decide(p, nr64('read'), [0xffffffffffffffffn])).toBe(ALLOW);
    expect(decide(p, nr64('read'), [0xffffffffn])).toBe(ERRNO(1));
  });
});

/** Every syscall number of every ABI (plus unknown ones around them) with a few argument vectors. */
function compareEverywhere(p: SeccompConfig): { checked: number; maxSteps: number } {
  const c = compileSeccomp(p, 'linux.seccomp', X64);
  validate(c.filter);
  const argSets: bigint[][] = [[], [0n], [8n], [0xffffffffn], [0x100000000n], [40n, 1n, 9n], [16n, 3n, 9n], [0x10000n], [0x20000000n], [3n, 4n, 0xffffffffn], [3n, 5n, 0x100000000n], [0x100000000n, 0x40000000n]];
  let checked = 0;
  const stats = { steps: 0 };
  let maxSteps = 0;
  const abis: [number, number, number][] = [[AUDIT_X86_64, 0, 600], [AUDIT_X86_64, X32_BIT, X32_BIT + 600], [AUDIT_I386, 0, 600]];
  for (const [arch, lo, hi] of abis) {
    for (let nr = lo; nr < hi; nr++) {
      for (const args of argSets) {
        const d = { nr, arch, args };
        const got = run(c.filter, d, stats);
        maxSteps = Math.max(maxSteps, stats.steps);
        if (got !== evaluateJson(p, d)) expect({ arch, nr, args, got }).toEqual({ arch, nr, args, got: evaluateJson(p, d) });
        checked++;
      }
    }
  }
  for (const nr of [0xffffffff, 0x7fffffff, 0x3fffffff, X32_BIT - 1, 0x80000000]) {
    for (const arch of [AUDIT_X86_64, AUDIT_I386, 0xc00000b7]) expect(run(c.filter, { nr, arch })).toBe(evaluateJson(p, { nr, arch }));
  }
  return { checked, maxSteps };
}

const PODMAN = '/usr/share/containers/seccomp.json';
const PODMAN_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'];

// Whole profiles are compared over every syscall: slow on a loaded 2-core machine.
describe('real profiles', { timeout: 60_000 }, () => {
  it.skipIf(!existsSync(PODMAN))('Podman default profile (default caps, and all caps)', () => {
    const raw = JSON.parse(readFileSync(PODMAN, 'utf8'));
    for (const caps of [PODMAN_CAPS, [...PODMAN_CAPS, 'CAP_AUDIT_WRITE', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']]) {
      const p = dockerProfileToOci(raw, caps);
      const c = compileSeccomp(p, 'linux.seccomp', X64);
      const { checked, maxSteps } = compareEverywhere(p);
      console.info(`podman profile (${caps.length} caps): ${c.instructions} instructions, ${checked} decisions checked, at most ${maxSteps} steps`);
      expect(c.instructions).toBeLessThan(1000);
      expect(run(c.filter, { nr: nr64('socket'), arch: AUDIT_X86_64, args: [16n, 3n, 9n] })).toBe(caps.includes('CAP_AUDIT_WRITE') ? ALLOW : ERRNO(22));
      expect(run(c.filter, { nr: nr64('read'), arch: AUDIT_X86_64 })).toBe(ALLOW);
      expect(run(c.filter, { nr: 1000, arch: AUDIT_X86_64 })).toBe(ERRNO(38));
    }
  });

  it('Docker-style profile fixture', () => {
    const p = JSON.parse(readFileSync(new URL('../../fixtures/seccomp/docker-style.json', import.meta.url), 'utf8'));
    const c = compileSeccomp(p, 'linux.seccomp', X64);
    const { checked, maxSteps } = compareEverywhere(p);
    console.info(`docker-style profile: ${c.instructions} instructions, ${checked} decisions checked, at most ${maxSteps} steps`);
    const clone = (flags: bigint) => run(c.filter, { nr: nr64('clone'), arch: AUDIT_X86_64, args: [flags] });
    expect(clone(0x3d0f00n)).toBe(ALLOW); // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|...
    expect(clone(0x10000000n)).toBe(ERRNO(1)); // CLONE_NEWUSER
    expect(run(c.filter, { nr: nr64('clone3'), arch: AUDIT_X86_64 })).toBe(ERRNO(38));
    expect(run(c.filter, { nr: SYSCALLS_X86.clone, arch: AUDIT_I386, args: [0x20000n] })).toBe(ERRNO(1)); // CLONE_NEWNS
  });

  it('random profiles agree with the JSON evaluator', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pool = ['read', 'write', 'openat', 'close', 'mmap', 'ioctl', 'socket', 'clone', 'kill', 'getpid'];
    const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_LOG', 'SCMP_ACT_TRAP', 'SCMP_ACT_KILL_PROCESS'];
    const ops = [...OPS, 'SCMP_CMP_MASKED_EQ'];
    for (let round = 0; round < 150; round++) {
      const syscalls = Array.from({ length: 1 + rnd(8) }, () => ({
        names: Array.from({ length: 1 + rnd(3) }, () => pool[rnd(pool.length)]),
        action: actions[rnd(actions.length)],
        errnoRet: rnd(3) === 0 ? rnd(100) : undefined,
      })).map((sc) => ({
        ...sc,
        // config-linux.md: errnoRet only with ERRNO (or TRACE).
        errnoRet: sc.action === 'SCMP_ACT_ERRNO' ? sc.errnoRet : undefined,
        args: Array.from({ length: rnd(3) }, () => ({ index: rnd(3), value: BOUNDARIES[rnd(BOUNDARIES.length)], valueTwo: BOUNDARIES[rnd(4)], op: ops[rnd(ops.length)] })),
      }));
      const p: SeccompConfig = { defaultAction: actions[rnd(actions.length)], architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
      const prog = compileSeccomp(p, '', X64).filter;
      for (let i = 0; i < 200; i++) {
        const name = pool[rnd(pool.length)];
        const [arch, nr] = [[AUDIT_X86_64, SYSCALLS_X86_64[name]], [AUDIT_X86_64, SYSCALLS_X32[name]], [AUDIT_I386, SYSCALLS_X86[name]]][rnd(3)];
        const d = { nr, arch, args: [0, 1, 2].map(() => BOUNDARIES[rnd(BOUNDARIES.length)]) };
        if (run(prog, d) !== evaluateJson(p, d)) expect({ p, d, got: run(prog, d) }).toEqual({ p, d, got: evaluateJson(p, d) });
      }
    }
  });
});

describe('seccompFeatures', () => {
  it('has runc features shape and kernel-dependent flags', () => {
    const f = seccompFeatures('5.10.0-23-amd64');
    expect(f.enabled).toBe(true);
    expect(f.actions).toContain('SCMP_ACT_NOTIFY');
    expect(f.operators).toHaveLength(7);
    expect(f.archs).toEqual(['SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64']);
    expect(f.knownFlags).toContain('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV');
    expect(f.supportedFlags).not.toContain('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV');
    expect(f.supportedFlags).toContain('SECCOMP_FILTER_FLAG_TSYNC_ESRCH');
    expect(seccompFeatures('6.18.44').supportedFlags).toEqual(f.knownFlags);
  });
});
