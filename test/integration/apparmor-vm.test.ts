// AppArmor for real: this host's kernel has none, so the suite (test/apparmor-vm/) runs in one throw-away qemu
// guest booted with AppArmor (test/vm/run-apparmor-suite.sh). Without qemu this test fails: a skip must not
// stand in for profiles nobody checked. Here, on the host, `features` must say what the host has.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle, REPO, testRoot, tsrunc, tsruncOk, uniqueId } from '../helpers';
import { expectEveryTestPassed, requireVmTools, runVmSuite } from '../vm/vm-suite';

const SUITE = join(REPO, 'test/vm/run-apparmor-suite.sh');
const TIMEOUT_MS = 300_000;

/** The host's truth, read the way the kernel documents it (independently of src/runtime/lsm). */
function hostHasAppArmor(): boolean {
  const param = '/sys/module/apparmor/parameters/enabled';
  const fs = '/sys/kernel/security/apparmor';
  return existsSync(param) && readFileSync(param, 'utf8').trim() === 'Y' && existsSync(fs) && statSync(fs).isDirectory();
}

describe('AppArmor', () => {
  it('features on this host reports AppArmor as the host has it (the module parameter and securityfs)', async () => {
    const f = JSON.parse(await tsruncOk(['features'])) as { linux: { apparmor: { enabled: boolean }; selinux: { enabled: boolean } } };
    expect(f.linux.apparmor).toEqual({ enabled: hostHasAppArmor() });
    expect(f.linux.selinux).toEqual({ enabled: existsSync('/sys/fs/selinux/enforce') });
  });

  it('exec --apparmor on this host: the clear error naming process.apparmorProfile, nothing run', async () => {
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    const id = uniqueId('aa');
    try {
      await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
      const r = await tsrunc(['exec', '--apparmor', 'tsrunc-no-such-profile', id, 'sh', '-c', 'echo ran']);
      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toContain('ran');
      const why = hostHasAppArmor() ? /AppArmor profile "tsrunc-no-such-profile" is not loaded/ : /AppArmor is not enabled on this host/;
      expect(r.stderr.trim()).toMatch(new RegExp(`process\\.apparmorProfile: ${why.source}`));
    } finally {
      if (existsSync(join(testRoot(), id))) await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('passes every test of test/apparmor-vm/ in one VM boot with AppArmor', { timeout: TIMEOUT_MS }, async () => {
    requireVmTools();
    const run = await runVmSuite(SUITE, 'apparmor-suite', TIMEOUT_MS);
    expectEveryTestPassed('run-apparmor-suite.sh', run);
  });
});
