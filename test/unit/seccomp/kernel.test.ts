// Loads compiled filters into a real (unprivileged, no_new_privs) child process, proving the kernel's
// verifier accepts them, and checks a few decisions it makes. Skipped without python3 (used for ctypes).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileSeccomp, type SeccompConfig } from '../../../src/runtime/seccomp';
import { syscallsX86_64 } from '../../../src/runtime/seccomp/tables';
const SYSCALLS_X86_64: Record<string, number> = Object.fromEntries(syscallsX86_64());

const LOADER = `
import ctypes, sys, os
libc = ctypes.CDLL(None, use_errno=True)
prog = bytes.fromhex(sys.argv[1]); flags = int(sys.argv[2]); probes = sys.argv[3:]
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
fp = Fprog(len(prog) // 8, prog)
if libc.prctl(38, 1, 0, 0, 0) != 0: sys.exit("prctl: %d" % ctypes.get_errno())
if libc.syscall(317, 1, flags, ctypes.byref(fp)) != 0: sys.exit("seccomp: errno %d" % ctypes.get_errno())
out = []
for p in probes:
    nr, *args = [int(x, 0) for x in p.split(",")]
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) for a in args])
    out.append("%d:%d" % (r, ctypes.get_errno() if r == -1 else 0))
os.write(1, (" ".join(out) + "\\n").encode())
`;

const python = spawnSync('python3', ['-c', 'import ctypes'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: undefined } }).status === 0;
const nr = (n: string) => SYSCALLS_X86_64[n];

function load(p: SeccompConfig, probes: (number | bigint)[][]): string[] {
  const c = compileSeccomp(p, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' });
  const r = spawnSync('python3', ['-c', LOADER, c.filter.toString('hex'), String(c.flags), ...probes.map((x) => x.join(','))], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim().split(' ');
}

describe.skipIf(process.arch !== 'x64' || !python)('kernel accepts and enforces compiled filters', () => {
  it('actions and 64-bit argument checks', () => {
    const p: SeccompConfig = {
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 0x100000000, op: 'SCMP_CMP_GE' }] },
        { names: ['getpriority'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 1, value: 0xff00000000, valueTwo: 0x1200000000, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['mount', 'not_a_syscall', '_llseek'], action: 'SCMP_ACT_ERRNO' },
      ],
    };
    const got = load(p, [[nr('getppid')], [nr('umask'), 0x100000022n], [nr('umask'), 0o22], [nr('getpriority'), 0, 0x1234000000n], [nr('mount'), 0, 0, 0, 0, 0]]);
    expect(got[0]).toBe('-1:38');
    expect(got[1]).toBe('-1:13');
    expect(got[2]).not.toMatch(/^-1/);
    expect(got[3]).toBe('-1:22');
    expect(got[4]).toBe('-1:1');
  });

  it('a large profile (every x86_64 syscall but a few allowed, most x86/x32 too) loads', () => {
    const deny = new Set(['mount', 'umount2', 'reboot', 'kexec_load', 'ptrace', 'bpf', 'personality']);
    const names = Object.keys(SYSCALLS_X86_64).filter((n) => !deny.has(n));
    const p: SeccompConfig = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names, action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_NE' }] },
      ],
    };
    const got = load(p, [[nr('mount'), 0, 0, 0, 0, 0], [nr('getpid')], [nr('personality'), 0xffffffff], [nr('personality'), 8], [1000]]);
    expect(got[0]).toBe('-1:38');
    expect(got[1]).toMatch(/^\d+:0$/);
    expect(got[2]).toMatch(/^\d+:0$/);
    expect(got[3]).toBe('-1:1');
    expect(got[4]).toBe('-1:38');
  });
});
