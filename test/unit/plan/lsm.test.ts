// Where the plan applies process.apparmorProfile / selinuxLabel / linux.mountLabel, what it refuses on a host
// without the LSM, and how the host is detected. The kernel's side is tested in the qemu guest
// (test/apparmor-vm/, through test/integration/apparmor-vm.test.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/bundle/spec';
import type { Spec } from '../../../src/runtime/config/types';
import { apparmorEnabled, LSM_PATHS, selinuxEnabled, type LsmHost } from '../../../src/runtime/lsm';
import { buildCreatePlan } from '../../../src/runtime/plan/build';
import { buildExecPlan } from '../../../src/runtime/plan/build-exec';
import { Op } from '../../../src/runtime/plan/ops';

const REPO = join(__dirname, '..', '..', '..');
const BOTH: LsmHost = { apparmor: true, selinux: true };
const NONE: LsmHost = { apparmor: false, selinux: false };

function spec(mutate: (s: Spec) => void): Spec {
  const s = defaultSpec({ args: ['true'] }) as Spec;
  s.process!.terminal = false;
  mutate(s);
  return s;
}

const create = (s: Spec, lsm: LsmHost) => buildCreatePlan(s, { id: 'x', rootfs: '/nonexistent', preserveFds: 0, stateDirFd: 3, lsm }).steps;

describe('LSM steps in the plan', () => {
  it('the AppArmor profile is written after pivot_root and masked paths, while the trusted procfs is open, before seccomp, the privilege drop and READY', () => {
    const steps = create(
      spec((s) => {
        s.process!.apparmorProfile = 'tsrunc-test';
        s.process!.noNewPrivileges = false;
        s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mknod'], action: 'SCMP_ACT_ERRNO' }] };
      }),
      { apparmor: true, selinux: false },
    );
    const ops = steps.map((st) => st.op);
    const i = ops.indexOf('APPARMOR');
    expect(steps[i]).toEqual({ op: 'APPARMOR', where: 'process.apparmorProfile', args: [{ str: 'tsrunc-test' }] });
    expect(ops.filter((o) => o === 'APPARMOR')).toHaveLength(1);
    for (const before of ['PIVOT_ROOT', 'MASK_PATH', 'READONLY_PATH']) expect(ops.lastIndexOf(before as never)).toBeLessThan(i);
    for (const after of ['CLOSE_PRIVATE', 'SECCOMP', 'SETGROUPS', 'SETGID', 'SETUID', 'CAPS', 'READY', 'WAIT_START', 'EXEC']) expect(ops.indexOf(after as never)).toBeGreaterThan(i);
    expect(ops).not.toContain('SELINUX_LABEL');
  });

  it('exec: the same steps in stage 1, before the namespaces are joined (the runtime\'s /proc) and the privilege drop', () => {
    const plan = buildExecPlan({ cwd: '/', user: { uid: 1, gid: 1 }, args: ['sh'], apparmorProfile: 'p', selinuxLabel: 'l' }, undefined, {
      id: 'x', initPid: process.pid, initStartTime: 0, preserveFds: 0, lsm: BOTH,
    });
    const ops = plan.steps.map((st) => st.op);
    const last = Math.max(ops.indexOf('APPARMOR'), ops.indexOf('SELINUX_LABEL'));
    expect(Math.min(ops.indexOf('APPARMOR'), ops.indexOf('SELINUX_LABEL'))).toBeGreaterThanOrEqual(0);
    for (const after of ['FORK', 'ENTER_ROOT', 'CLOSE_PRIVATE', 'SETUID', 'EXEC']) expect(ops.indexOf(after as never)).toBeGreaterThan(last);
  });

  it('refused without the LSM, naming the JSON path; nothing asked, nothing refused', () => {
    expect(() => create(spec((s) => void (s.process!.apparmorProfile = 'docker-default')), NONE)).toThrow(/process\.apparmorProfile.*AppArmor is not enabled/);
    expect(() => create(spec((s) => void (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0')), NONE)).toThrow(/process\.selinuxLabel.*SELinux is not enabled/);
    expect(() => create(spec((s) => void (s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0')), NONE)).toThrow(/linux\.mountLabel.*SELinux is not enabled/);
    expect(() => create(spec((s) => void (s.process!.apparmorProfile = 'a\nb')), BOTH)).toThrow(/process\.apparmorProfile.*newline/);
    expect(create(spec((s) => void (s.linux!.mountLabel = '')), NONE).map((st) => st.op)).not.toContain('APPARMOR');
  });

  it('SELinux: the exec label step, and context="<mountLabel>" on mounts by type except proc, sysfs, mqueue and binds', () => {
    const label = 'system_u:object_r:container_file_t:s0:c1,c2';
    const steps = create(
      spec((s) => {
        s.process!.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2';
        s.linux!.mountLabel = label;
        s.mounts!.push({ destination: '/b', type: 'bind', source: '/tmp', options: ['rbind'] });
      }),
      { apparmor: false, selinux: true },
    );
    expect(steps.find((st) => st.op === 'SELINUX_LABEL')?.args).toEqual([{ str: 'system_u:system_r:container_t:s0:c1,c2' }]);
    const data = new Map(steps.filter((st) => st.op === 'MOUNT').map((st) => [(st.args[1] as { str: string }).str, (st.args[4] as { str: string }).str]));
    expect(data.get('/dev')).toMatch(new RegExp(`(^|,)context="${label}"$`));
    expect(data.get('/dev/pts')).toContain(`context="${label}"`);
    expect(data.get('/proc')).not.toContain('context=');
    expect(data.get('/dev/mqueue')).not.toContain('context=');
    expect(data.get('/b')).not.toContain('context=');
  });

  it('OP_APPARMOR and OP_SELINUX_LABEL have the same codes in native/plan.h', () => {
    const header = readFileSync(join(REPO, 'native/plan.h'), 'utf8');
    expect(Number(/\bOP_APPARMOR\s*=\s*(\d+)/.exec(header)?.[1])).toBe(Op.APPARMOR);
    expect(Number(/\bOP_SELINUX_LABEL\s*=\s*(\d+)/.exec(header)?.[1])).toBe(Op.SELINUX_LABEL);
  });
});

describe('LSM detection', () => {
  const saved = { ...LSM_PATHS };
  let dir = '';
  afterEach(() => {
    Object.assign(LSM_PATHS, saved);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('AppArmor needs both the module parameter "Y" and its securityfs directory; SELinux needs selinuxfs', () => {
    dir = mkdtempSync(join(tmpdir(), 'tsrunc-lsm-'));
    Object.assign(LSM_PATHS, { apparmorEnabled: join(dir, 'enabled'), apparmorFs: join(dir, 'apparmor'), selinuxEnforce: join(dir, 'enforce') });
    expect([apparmorEnabled(), selinuxEnabled()]).toEqual([false, false]);
    writeFileSync(LSM_PATHS.apparmorEnabled, 'Y\n');
    expect(apparmorEnabled()).toBe(false); // securityfs does not show it
    mkdirSync(LSM_PATHS.apparmorFs);
    expect(apparmorEnabled()).toBe(true);
    writeFileSync(LSM_PATHS.apparmorEnabled, 'N\n');
    expect(apparmorEnabled()).toBe(false);
    writeFileSync(LSM_PATHS.selinuxEnforce, '1');
    expect(selinuxEnabled()).toBe(true);
  });
});
