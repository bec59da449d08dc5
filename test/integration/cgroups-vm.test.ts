// The cgroup v2 suite (test/cgroups-vm/) needs real v2 controllers, which this host does not have: it runs in
// one throw-away qemu guest (test/vm/run-cgroup-suite.sh). Without qemu this test fails: CI installs it, and
// a skip must not stand in for resource limits nobody checked.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env';
import { expectEveryTestPassed, requireVmTools, runVmSuite } from '../vm/vm-suite';

const SUITE = join(REPO, 'test/vm/run-cgroup-suite.sh');
// Generous: the guest runs code 10-20x slower, and the host is shared; a hang still ends here.
const TIMEOUT_MS = 600_000;

describe('cgroup v2 suite in a qemu guest', () => {
  it('passes every test of test/cgroups-vm/ in one VM boot', { timeout: TIMEOUT_MS }, async () => {
    requireVmTools();
    const run = await runVmSuite(SUITE, 'cgroup-suite', TIMEOUT_MS);
    expectEveryTestPassed('run-cgroup-suite.sh', run);
  });
});
