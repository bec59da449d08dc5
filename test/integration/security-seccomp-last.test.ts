// Issue 9, item 1: the seccomp filter is the last thing before execve. A profile that allows exactly
// what busybox `echo` needs plus execve must work (close_range, sendto, waiting for start: all before).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv, hostDir, makeBundle, tsrunc, tsruncArgv, uniqueId, type Spec } from '../helpers';

// strace of Debian's static busybox `echo hi` (the rootfs binary), from its own execve on, as root and
// as uid 1000 (where busybox also checks and resets its ids: getgid, setgid, setuid, newfstatat).
const ECHO_NEEDS = [
  'arch_prctl', 'brk', 'exit_group', 'getrandom', 'getuid', 'mprotect', 'prctl', 'prlimit64',
  'readlink', 'rseq', 'set_robust_list', 'set_tid_address', 'write',
  'getgid', 'setgid', 'setuid', 'newfstatat',
];
// Without no_new_privs the filter goes in while privileged; then the capability drop follows it
// (prctl(PR_CAPBSET_DROP), already in ECHO_NEEDS, and capset).
const PRIVILEGED_DROP = ['capset'];

type Mode = 'run' | 'create+start' | 'exec';
const ACTIONS = ['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP'] as const;

function profile(defaultAction: string, names: string[]): NonNullable<NonNullable<Spec['linux']>['seccomp']> {
  return {
    defaultAction,
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
  } as NonNullable<NonNullable<Spec['linux']>['seccomp']>;
}

/** Runs `echo <word>` under the profile in one of the three ways; returns what tsrunc reported. */
async function echoUnder(mode: Mode, seccomp: ReturnType<typeof profile>, nnp: boolean, uid: number, word: string) {
  const bundle = makeBundle({
    args: ['echo', word],
    mutate: (spec) => {
      spec.linux!.seccomp = seccomp;
      spec.process!.noNewPrivileges = nnp;
      spec.process!.user = { uid, gid: uid };
    },
  });
  const id = uniqueId('scl');
  try {
    if (mode === 'run') return await tsrunc(['run', '--bundle', bundle.dir, id]);
    // The container keeps create's stdout: a file of ours, read once the container has stopped.
    // (Files, not pipes: a waiting init holds create's stdio, and a pipe would never see its end.)
    const dir = hostDir('scl');
    const outPath = join(dir, 'out');
    const errPath = join(dir, 'err');
    const out = openSync(outPath, 'w');
    const err = openSync(errPath, 'w');
    const c = spawnSync(process.execPath, tsruncArgv(['create', '--bundle', bundle.dir, id]), { stdio: ['ignore', out, err], env: childEnv() });
    closeSync(out);
    closeSync(err);
    if (c.status !== 0) return { code: c.status, stdout: '', stderr: readFileSync(errPath, 'utf8') };
    if (mode === 'exec') return await tsrunc(['exec', id, 'echo', word]);
    const s = await tsrunc(['start', id]);
    if (s.code !== 0) return s;
    for (let i = 0; i < 400; i++) {
      const st = JSON.parse((await tsrunc(['state', id])).stdout);
      if (st.status === 'stopped') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return { ...s, stdout: readFileSync(outPath, 'utf8') };
  } finally {
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
  }
}

describe('seccomp is the last step before execve (issue 9)', () => {
  for (const action of ACTIONS)
    for (const nnp of [true, false])
      for (const uid of [0, 1000])
        it(`${action}, noNewPrivileges ${nnp}, uid ${uid}: run, create+start and exec with exactly echo's syscalls`, async () => {
          const names = ['execve', ...ECHO_NEEDS, ...(nnp ? [] : PRIVILEGED_DROP)];
          for (const mode of ['run', 'create+start', 'exec'] as Mode[]) {
            const word = `ok-${mode}`;
            const r = await echoUnder(mode, profile(action, names), nnp, uid, word);
            expect(r.stderr, mode).toBe('');
            expect(r.code, mode).toBe(0);
            expect(r.stdout, mode).toBe(`${word}\n`);
          }
        }, 60_000);

  for (const nnp of [true, false])
    it(`a profile that blocks execve says so (noNewPrivileges ${nnp}), for run, start and exec`, async () => {
      const names = [...ECHO_NEEDS, ...PRIVILEGED_DROP];
      for (const mode of ['run', 'create+start', 'exec'] as Mode[]) {
        const r = await echoUnder(mode, profile('SCMP_ACT_ERRNO', names), nnp, 0, 'never');
        expect(r.code, mode).not.toBe(0);
        expect(r.stderr, mode).toMatch(/^tsrunc: \w+: linux\.seccomp: the seccomp profile blocks execve: the container's program \(\S*\/echo\) cannot be started\n$/);
      }
    }, 60_000);

  it('without noNewPrivileges, a profile that blocks the capability drop says which call, before loading', async () => {
    const r = await echoUnder('run', profile('SCMP_ACT_ERRNO', ['execve', ...ECHO_NEEDS]), false, 0, 'never');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrunc: run: linux\.seccomp: the seccomp profile blocks capset, which dropping capabilities needs after the filter is loaded.*\n$/);
  });
});

describe('no silent failures (issue 9)', () => {
  // Each of these failed somewhere; each must say so in exactly one line on stderr.
  const cases: Array<[string, Mode, (spec: Spec) => void, string[]?]> = [
    ['execve blocked, run', 'run', (s) => void (s.linux!.seccomp = profile('SCMP_ACT_ERRNO', ECHO_NEEDS))],
    ['execve blocked, start', 'create+start', (s) => void (s.linux!.seccomp = profile('SCMP_ACT_KILL_PROCESS', ECHO_NEEDS))],
    ['execve blocked, exec', 'exec', (s) => void (s.linux!.seccomp = profile('SCMP_ACT_TRAP', ECHO_NEEDS))],
    ['a profile without close_range (old Docker profiles)', 'run', (s) => void (s.linux!.seccomp = profile('SCMP_ACT_ERRNO', ECHO_NEEDS))],
    ['a missing program, run', 'run', (s) => void (s.process!.args = ['/no/such/program'])],
    ['a missing program, exec', 'exec', () => undefined, ['/no/such/program']],
    ['a bad config, create', 'create+start', (s) => void (s.linux!.namespaces!.push({ type: 'bogus' as 'pid' }))],
  ];
  for (const [name, mode, mutate, execArgs] of cases)
    it(`${name}: non-zero exit and one line on stderr`, async () => {
      const bundle = makeBundle({ args: ['echo', 'x'], mutate });
      const id = uniqueId('loud');
      try {
        let r;
        if (mode === 'run') r = await tsrunc(['run', '--bundle', bundle.dir, id]);
        else {
          r = await tsrunc(['create', '--bundle', bundle.dir, id]);
          if (r.code === 0) r = await tsrunc(mode === 'exec' ? ['exec', id, ...(execArgs ?? bundle.spec.process!.args!)] : ['start', id]);
        }
        expect(r.code).not.toBe(0);
        expect(r.stderr.trim(), 'stderr must say what failed').not.toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      } finally {
        await tsrunc(['delete', '--force', id]);
        bundle.remove();
      }
    });
});
