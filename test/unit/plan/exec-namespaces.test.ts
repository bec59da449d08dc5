// Which namespaces an exec joins: those of the container's init that differ from the runtime's, the
// user namespace first and the mount namespace last (src/runtime/plan/build-exec.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { buildExecPlan, namespacesToJoin } from '../../../src/runtime/plan/build-exec';
import { killChild } from '../../helpers/base';

let child: ChildProcess | undefined;
afterEach(async () => {
  await killChild(child);
  child = undefined;
});

it('joins only the namespaces the init does not share with the runtime', async () => {
  // unshare(1) execs `cat` in new mount, uts and ipc namespaces; cat's first output says it runs
  child = spawn('unshare', ['--mount', '--uts', '--ipc', 'sh', '-c', 'echo ready; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  const joins = namespacesToJoin(child.pid!);
  expect(joins.map((j) => j.type)).toEqual(['uts', 'ipc', 'mount']);
  expect(joins[2]).toEqual({ type: 'mount', path: `/proc/${child.pid}/ns/mnt`, flag: 0x00020000 });
});

it('pins the init before the first /proc/<pid> open and checks the pin after the last, before the private fds close', async () => {
  child = spawn('unshare', ['--uts', '--ipc', 'sh', '-c', 'echo ready; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  // no mount namespace of its own: the exec chroots to /proc/<pid>/root, opened after the joins
  const plan = buildExecPlan({ cwd: '/', user: { uid: 0, gid: 0 }, args: ['true'] }, undefined, {
    id: 'x', initPid: child.pid!, initStartTime: 1234, preserveFds: 0, lsm: { apparmor: false, selinux: false },
  });
  const ops = plan.steps.map((st) => st.op);
  const pin = ops.indexOf('PIN_PID');
  expect(plan.steps[pin]!.args).toEqual([{ u64: child.pid }, { u64: 1234 }]);
  expect(pin).toBeLessThan(ops.indexOf('SETNS'));
  expect(ops.indexOf('CHECK_PIN')).toBeGreaterThan(ops.indexOf('CHROOT_TO'));
  expect(ops.indexOf('CHECK_PIN')).toBeGreaterThan(ops.lastIndexOf('SETNS'));
  expect(ops.indexOf('CHECK_PIN')).toBeLessThan(ops.indexOf('CLOSE_PRIVATE'));
});

it('joins nothing for a process in the runtime\'s own namespaces', () => {
  expect(namespacesToJoin(process.pid)).toEqual([]);
});

it('refuses an init that has exited instead of joining nothing', async () => {
  child = spawn('true');
  await once(child, 'exit');
  expect(() => namespacesToJoin(child!.pid!)).toThrow(/has exited/);
});
