// Inside the VM: the compiled device filter passes the kernel's verifier, attaches to a cgroup and
// decides real open(2) calls of processes in it.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { compileDeviceFilter, defaultAllowedDevices, DEVICE_PROG_LICENSE } from '../../src/runtime/cgroups/devices';
import { Cgroup } from '../../src/runtime/cgroups/manager';
import { native } from '../../src/runtime/native';
import { held, inTestVm, killHeld } from './helpers';

interface BpfAddon {
  bpfProgLoadDevice(insns: Buffer, license: string): number;
  bpfProgAttach(progFd: number, cgroupFd: number, flags?: number, replaceFd?: number): void;
  bpfProgDetach(progFd: number, cgroupFd: number): void;
  bpfProgQuery(cgroupFd: number): { flags: number; ids: number[] };
}

/** The runtime's own addon (build/Release/tsrunc.node), which the runtime uses to attach the filter at create. */
function loadAddon(): BpfAddon {
  return native() as unknown as BpfAddon;
}

const VM = inTestVm();
const bpf = VM ? loadAddon() : undefined;
let cg: Cgroup | undefined;

afterAll(async () => {
  killHeld();
  await cg?.remove();
});

async function tryOpen(c: Cgroup, path: string, mode: 'r' | 'w'): Promise<string> {
  const redir = mode === 'r' ? `< ${path}` : `> ${path}`;
  const sh = await held(`exec 3${redir} && echo ok >&2`);
  c.addProcess(sh.pid);
  sh.go();
  const { stderr } = await sh.exit;
  return stderr.includes('ok') ? 'ok' : stderr.trim();
}

describe.skipIf(!VM)('device filter in the VM', () => {
  it('allows the default devices and denies the rest', async () => {
    if (!existsSync('/dev/ram0')) execFileSync('modprobe', ['brd', 'rd_nr=1', 'rd_size=8192']);
    cg = Cgroup.create('/tsrunc-vm-dev/ctr');
    const prog = compileDeviceFilter([{ allow: false, access: 'rwm' }, ...defaultAllowedDevices(), { allow: true, type: 'b', major: 1, minor: 0, access: 'r' }]);
    const progFd = bpf!.bpfProgLoadDevice(prog, DEVICE_PROG_LICENSE);
    const cgFd = cg.fd();
    bpf!.bpfProgAttach(progFd, cgFd);
    expect(bpf!.bpfProgQuery(cgFd).ids).toHaveLength(1);

    expect(await tryOpen(cg, '/dev/null', 'w')).toBe('ok');
    expect(await tryOpen(cg, '/dev/zero', 'r')).toBe('ok');
    expect(await tryOpen(cg, '/dev/ram0', 'r')).toBe('ok'); // b 1:0 r
    expect(await tryOpen(cg, '/dev/ram0', 'w')).toMatch(/Operation not permitted/);
    expect(await tryOpen(cg, '/dev/kmsg', 'r')).toMatch(/Operation not permitted/); // c 1:11

    bpf!.bpfProgDetach(progFd, cgFd);
    expect(bpf!.bpfProgQuery(cgFd).ids).toHaveLength(0);
    expect(await tryOpen(cg, '/dev/kmsg', 'r')).toBe('ok');
    closeSync(progFd);
    closeSync(cgFd);
  });
  it('reports the verifier log for a program the kernel refuses', () => {
    expect(() => bpf!.bpfProgLoadDevice(Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]), 'GPL')).toThrow(/verifier log:[\s\S]*R0 !read_ok/);
  });
});
