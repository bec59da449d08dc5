// Inside the qemu guest booted with AppArmor (test/vm/run-apparmor-suite.sh): real profiles loaded with
// apparmor_parser, real tsrunc containers (dist/tsrunc.cjs), and what the kernel says from inside them.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, REPO, sh, testRoot, tsrunc, tsruncOk, uniqueId, type BundleOptions, type Spec, type TsruncResult } from '../helpers';

const PROFILES = join(REPO, 'test/apparmor-vm/tsrunc-test.profile');
const ENABLED = '/sys/module/apparmor/parameters/enabled';

const explain = (r: TsruncResult) => `exit ${r.code ?? r.signal}${r.timedOut ? ' (timeout)' : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Foreground `tsrunc run` (it deletes the container when the init exits: a tsrunc call costs seconds under TCG). */
async function run(mutate: BundleOptions['mutate'], args: string[]): Promise<TsruncResult> {
  const bundle = makeBundle({ args, mutate });
  const id = uniqueId('aa');
  try {
    return await tsrunc(['run', '--bundle', bundle.dir, id]);
  } finally {
    if (existsSync(join(testRoot(), id))) await tsrunc(['delete', '--force', id]);
    bundle.remove();
  }
}

/** tmpfs at /ok and /denied (the rootfs is read-only): the profile refuses writes under /denied only. */
function confined(profile: string | undefined) {
  return (spec: Spec) => {
    if (profile) spec.process!.apparmorProfile = profile;
    for (const d of ['/ok', '/denied']) spec.mounts!.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  };
}

beforeAll(() => {
  // Not a skip: outside the AppArmor guest this suite proves nothing, so it must fail loudly.
  if (hostname() !== 'tsrunc-vm' || !existsSync(ENABLED) || !readFileSync(ENABLED, 'utf8').startsWith('Y'))
    throw new Error('run this suite in the qemu guest booted with AppArmor: test/vm/run-apparmor-suite.sh');
  execFileSync('apparmor_parser', ['-r', PROFILES], { stdio: ['ignore', 'ignore', 'pipe'] });
});

afterAll(() => {
  execFileSync('apparmor_parser', ['-R', PROFILES], { stdio: 'ignore' });
});

describe('AppArmor in a guest that has it', () => {
  it('features says AppArmor is enabled, as /sys/module/apparmor/parameters/enabled does', async () => {
    expect(readFileSync(ENABLED, 'utf8').trim()).toBe('Y');
    const f = JSON.parse(await tsruncOk(['features'])) as { linux: { apparmor: { enabled: boolean } } };
    expect(f.linux.apparmor).toEqual({ enabled: true });
  });

  it('the init runs under process.apparmorProfile: /proc/self/attr/current names it, the denied write fails with EACCES, another works', async () => {
    const script = [
      'cat /proc/self/attr/current',
      'echo a > /ok/f && echo ok-written',
      'echo b > /denied/f; echo denied-rc=$?',
      'cat /denied/f 2>/dev/null || echo denied-absent',
    ].join('; ');
    const r = await run((spec) => {
      confined('tsrunc-test')(spec);
      // tsrunc's own setup (masked and read-only paths, a sysctl, seccomp after no_new_privs) runs unconfined
      spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mknodat'], action: 'SCMP_ACT_ERRNO' }] };
    }, sh(script));
    expect(r.code, explain(r)).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out[0]).toBe('tsrunc-test (enforce)');
    expect(out.slice(1)).toEqual(['ok-written', 'denied-rc=1', 'denied-absent']);
    // strerror(EACCES), as busybox sh reports the failed open(O_CREAT)
    expect(r.stderr).toMatch(/\/denied\/f: Permission denied/);
  });

  it('without apparmorProfile the container is unconfined and may write under /denied', async () => {
    const r = await run(confined(undefined), sh('cat /proc/self/attr/current; echo b > /denied/f && echo denied-written'));
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['unconfined', 'denied-written']);
  });

  describe('exec', () => {
    const bundle = makeBundle({ args: ['sleep', '1000'], mutate: confined('tsrunc-test') });
    const id = uniqueId('aa');
    beforeAll(async () => {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      await tsruncOk(['start', id]);
    });
    afterAll(async () => {
      if (existsSync(join(testRoot(), id))) await tsrunc(['delete', '--force', id]);
      bundle.remove();
    });

    it("an exec'd process gets the container's profile; the init (pid 1) has it too", async () => {
      const out = await tsruncOk(['exec', id, 'cat', '/proc/self/attr/current', '/proc/1/attr/current']);
      expect(out.trim().split('\n')).toEqual(['tsrunc-test (enforce)', 'tsrunc-test (enforce)']);
      const w = await tsrunc(['exec', id, 'sh', '-c', 'echo x > /denied/g']);
      expect(w.code, explain(w)).toBe(1);
      expect(w.stderr).toMatch(/\/denied\/g: Permission denied/);
    });

    it('exec --apparmor PROFILE runs the process under that profile', async () => {
      const out = await tsruncOk(['exec', '--apparmor', 'tsrunc-test-exec', id, 'cat', '/proc/self/attr/current']);
      expect(out.trim()).toBe('tsrunc-test-exec (enforce)');
    });

    it('exec --apparmor with a profile that is not loaded: a clear error naming it, nothing run', async () => {
      const r = await tsrunc(['exec', '--apparmor', 'tsrunc-not-loaded-exec', id, 'sh', '-c', 'echo ran']);
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.stdout).not.toContain('ran');
      expect(r.stderr).toMatch(/process\.apparmorProfile: AppArmor profile "tsrunc-not-loaded-exec" is not loaded/);
    });
  });

  it('create with a profile that is not loaded: a clear error naming it, no container left', async () => {
    const bundle = makeBundle({ args: ['true'], mutate: confined('tsrunc-not-loaded') });
    const id = uniqueId('aa');
    try {
      const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.stderr).toMatch(/process\.apparmorProfile: AppArmor profile "tsrunc-not-loaded" is not loaded/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(testRoot(), id))).toBe(false);
    } finally {
      if (existsSync(join(testRoot(), id))) await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });
});
