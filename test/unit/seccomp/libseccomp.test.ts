// Cross-check against libseccomp (optional: needs a C compiler and libseccomp-dev): the same profile built
// by libseccomp and exported with seccomp_export_bpf must decide every syscall as our program does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSeccomp, type SeccompConfig } from '../../../src/runtime/seccomp';
import { run } from './bpf-interp';
import { AUDIT_I386, AUDIT_X86_64, X32_BIT, action, dockerProfileToOci } from './json-eval';

const cc = spawnSync('cc', ['--version']).status === 0;
const available = cc && existsSync('/usr/include/seccomp.h');
const dir = available ? mkdtempSync(join(tmpdir(), 'tsrunc-seccomp-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ARCH_TOKEN: Record<string, number> = { SCMP_ARCH_X86_64: 0xc000003e, SCMP_ARCH_X86: 0x40000003, SCMP_ARCH_X32: 0x4000003e };
const OP: Record<string, number> = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 };

function libseccompProgram(p: SeccompConfig): Buffer {
  const bin = join(dir, 'export');
  if (!existsSync(bin)) {
    const r = spawnSync('cc', ['-O1', '-o', bin, join(import.meta.dirname, 'libseccomp-export.c'), '-lseccomp'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const def = action(p.defaultAction, p.defaultErrnoRet);
  const lines = [`default ${def}`, ...(p.architectures ?? []).filter((a) => a in ARCH_TOKEN).map((a) => `arch ${ARCH_TOKEN[a]}`)];
  for (const s of p.syscalls ?? []) {
    const act = action(s.action, s.errnoRet);
    if (act === def) continue; // runc skips these; libseccomp would refuse them
    const args = (s.args ?? []).map((a) => `${a.index} ${OP[a.op]} ${BigInt(a.value)} ${BigInt(a.valueTwo ?? 0)}`);
    for (const name of s.names) lines.push(`rule ${act} ${name} ${args.length} ${args.join(' ')}`);
  }
  const r = spawnSync(bin, { input: lines.join('\n') + '\n' });
  if (r.status !== 0) throw new Error(`libseccomp-export failed: ${r.stderr}`);
  expect(r.stderr.toString()).toBe('');
  return r.stdout;
}

/** `x32`: also compare x32 decisions (we compare 64 bits there, libseccomp 32: only equal for small values). */
function compare(p: SeccompConfig, x32 = true): number {
  const ours = compileSeccomp(p, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' }).filter;
  const theirs = libseccompProgram(p);
  const argSets: bigint[][] = [[], [0n], [8n], [0xffffffffn], [0x100000000n], [40n, 1n, 9n], [16n, 3n, 9n], [0x10000n], [0x20000000n], [3n, 4n, 0xffffffffn]];
  let n = 0;
  for (const [arch, lo, hi] of [[AUDIT_X86_64, 0, 470], [AUDIT_X86_64, X32_BIT, X32_BIT + 560], [AUDIT_I386, 0, 460], [0xc00000b7, 0, 3]]) {
    for (let nr = lo; nr < hi; nr++) {
      for (const args of argSets) {
        // On x32 we compare all 64 bits of an arg, libseccomp only the low 32 (see compile.ts).
        if (lo === X32_BIT && (!x32 || args.some((a) => a > 0xffffffffn))) continue;
        const d = { nr, arch, args };
        const [a, b] = [run(ours, d), run(theirs, d)];
        if (a !== b) expect({ d, ours: a.toString(16) }).toEqual({ d, ours: b.toString(16) });
        n++;
      }
    }
  }
  return n;
}

describe.skipIf(!available)('libseccomp cross-check', { timeout: 60_000 }, () => {
  it.skipIf(!existsSync('/usr/share/containers/seccomp.json'))('Podman default profile', () => {
    const raw = JSON.parse(readFileSync('/usr/share/containers/seccomp.json', 'utf8'));
    expect(compare(dockerProfileToOci(raw, ['CAP_CHOWN', 'CAP_SETUID', 'CAP_SYS_CHROOT']))).toBeGreaterThan(10000);
    expect(compare(dockerProfileToOci(raw, ['CAP_AUDIT_WRITE', 'CAP_SYS_ADMIN']))).toBeGreaterThan(10000);
  });

  it('Docker-style fixture', () => {
    const p = JSON.parse(readFileSync(new URL('../../fixtures/seccomp/docker-style.json', import.meta.url), 'utf8'));
    // Its mbind/unshare rules use values >= 2^32, which libseccomp truncates on x32.
    expect(compare(p, false)).toBeGreaterThan(5000);
  });
});
