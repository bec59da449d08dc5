// Inside the VM: real tsrunc containers (dist/tsrunc.cjs) with linux.resources, checked by what the container
// saw and by the cgroup files the kernel keeps. The cgroup namespace makes /sys/fs/cgroup in the container its
// own cgroup, so the container reads its limits there.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyValues } from '../../src/runtime/cgroups/fsutil';
import {
  childEnv,
  makeBundle,
  state,
  testRoot,
  tsrunc,
  tsruncArgv,
  tsruncOk,
  uniqueId,
  type Bundle,
  type BundleOptions,
  type Spec,
  type TsruncResult,
} from '../helpers';
import { inTestVm } from './helpers';

const VM = inTestVm();
const MiB = 1 << 20;
/** Doubles a shell string forever: anonymous memory only (the rootfs is on the guest's tmpfs). */
const HOG = 'x=0123456789abcdef; while :; do x=$x$x; done';
let ram: { major: number; minor: number } | undefined;

/** Where the kernel keeps the cgroup of container `id` (the runtime's default cgroupsPath /tsrunc/<id>). */
const cgDir = (id: string) => `/sys/fs/cgroup/tsrunc/${id}`;
const cgRead = (id: string, file: string) => readFileSync(join(cgDir(id), file), 'utf8').trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bundleWith(args: string[], mutate: BundleOptions['mutate']): Bundle {
  return makeBundle({ args, mutate });
}

function resources(spec: Spec): NonNullable<NonNullable<Spec['linux']>['resources']> {
  spec.linux!.resources ??= {};
  return spec.linux!.resources;
}

function explain(r: TsruncResult): string {
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timeout)' : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

interface Detached {
  id: string;
  bundle: Bundle;
  /** What the container wrote to stdout and stderr so far. */
  output(): string;
  /** The init's pid (state.json). */
  pid(): number;
}

/**
 * `tsrunc run -d` with the container's stdio on a file (a pipe would outlive tsrunc: the container keeps it).
 */
async function runDetached(args: string[], mutate?: BundleOptions['mutate']): Promise<Detached> {
  const bundle = bundleWith(args, mutate);
  const id = uniqueId('vm');
  const log = join(bundle.dir, 'output');
  const fd = openSync(log, 'w+', 0o600);
  const child = spawn(process.execPath, tsruncArgv(['run', '-d', '--bundle', bundle.dir, id]), { stdio: ['ignore', fd, fd], env: childEnv() });
  closeSync(fd);
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  const output = () => readFileSync(log, 'utf8');
  if (code !== 0) throw new Error(`tsrunc run -d exited ${code}: ${output()}`);
  const pid = () => (JSON.parse(readFileSync(join(testRoot(), id, 'state.json'), 'utf8')) as { pid: number }).pid;
  return { id, bundle, output, pid };
}

async function until<T>(what: string, probe: () => T | false | Promise<T | false>, timeout = 30_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function remove(c: { id: string; bundle: Bundle }): Promise<void> {
  // `run` deletes its container; a tsrunc call costs ~1 s under TCG, so only when something is left
  if (existsSync(join(testRoot(), c.id))) await tsrunc(['delete', '--force', c.id]);
  c.bundle.remove();
}

/** Foreground `tsrunc run` of a fresh bundle (it deletes the container when the init exits). */
async function runOnce(args: string[], mutate: BundleOptions['mutate']): Promise<TsruncResult> {
  const c = { id: uniqueId('vm'), bundle: bundleWith(args, mutate) };
  try {
    return await tsrunc(['run', '--bundle', c.bundle.dir, c.id], { timeout: 90_000 });
  } finally {
    await remove(c);
  }
}

beforeAll(() => {
  if (!VM) return;
  // a RAM disk: a block device for io.max and the device rules (the VM's disks are 9p)
  if (!existsSync('/dev/ram0')) execFileSync('modprobe', ['brd', 'rd_nr=1', 'rd_size=8192']);
  const st = statSync('/dev/ram0');
  ram = { major: Math.floor(st.rdev / 256), minor: st.rdev % 256 };
});

describe.skipIf(!VM)('tsrunc containers with cgroup v2 resources (VM)', () => {
  it('OOM-kills a memory hog at linux.resources.memory.limit (run exits 137, memory.events, events --stats)', async () => {
    // 1) the hog is the container's init: `run` reports the kernel's SIGKILL as 137
    const r = await runOnce(['sh', '-c', HOG], (s) => void (resources(s).memory = { limit: 32 * MiB, swap: 32 * MiB }));
    expect(r.code, explain(r)).toBe(137);

    // 2) the hog is a child: the init sees it die of SIGKILL, reads memory.events, and stays for `events --stats`
    const c = await runDetached(
      ['sh', '-c', `cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max; sh -c '${HOG}'; echo "hog exit $?"; cat /sys/fs/cgroup/memory.events; echo done; while :; do sleep 1; done`],
      (s) => void (resources(s).memory = { limit: 32 * MiB, swap: 32 * MiB }),
    );
    try {
      await until('the hog to die', () => c.output().includes('done'), 60_000);
      expect(c.output()).toMatch(new RegExp(`^${32 * MiB}\n0\n`)); // memory.max; swap: limit+swap semantics
      expect(c.output()).toContain('hog exit 137');
      expect(Number(/^oom_kill (\d+)$/m.exec(c.output())?.[1])).toBeGreaterThanOrEqual(1);
      const ev = JSON.parse(await tsruncOk(['events', '--stats', c.id])) as {
        type: string;
        id: string;
        data: { memory: { usage: { usage?: number; max?: number; limit?: number; failcnt?: number } } };
      };
      expect(ev).toMatchObject({ type: 'stats', id: c.id });
      expect(ev.data.memory.usage.limit).toBe(32 * MiB);
      expect(ev.data.memory.usage.max).toBeGreaterThan(30 * MiB);
      expect(ev.data.memory.usage.failcnt).toBeGreaterThan(0);
      expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    } finally {
      await remove(c);
    }
  });

  it('stops a fork burst at linux.resources.pids.limit: the container sees fork failures', async () => {
    // the burst in a subshell; afterwards only builtins (no fork is possible while the sleeps hold the pids)
    const script = [
      'cat /sys/fs/cgroup/pids.max',
      '(i=0; while [ $i -lt 40 ]; do sleep 30 & echo started $i; i=$((i+1)); done)',
      'while read k v; do echo "pids.events $k $v"; done < /sys/fs/cgroup/pids.events',
      'kill -9 -1',
    ].join('; ');
    const r = await runOnce(['sh', '-c', script], (s) => void (resources(s).pids = { limit: 10 }));
    expect(r.stdout, explain(r)).toMatch(/^10$/m);
    expect(r.stderr, explain(r)).toMatch(/can't fork|Resource temporarily unavailable/);
    const started = r.stdout.match(/^started \d+$/gm) ?? [];
    expect(started.length, explain(r)).toBeGreaterThan(0);
    expect(started.length, explain(r)).toBeLessThan(10); // the init and the subshell count too
    expect(Number(/^pids\.events max (\d+)$/m.exec(r.stdout)?.[1]), explain(r)).toBeGreaterThan(0);
  });

  it('writes cpu, io, memory and pids limits that the container reads in its own cgroup, and throttles it at cpu.max', async () => {
    const script = [
      'cat /proc/self/cgroup',
      'for f in cpu.max cpu.weight io.max memory.max memory.low pids.max; do echo "$f=$(cat /sys/fs/cgroup/$f)"; done',
      'timeout 1 sh -c "while :; do :; done"',
      'grep nr_throttled /sys/fs/cgroup/cpu.stat',
    ].join('; ');
    const r = await runOnce(['sh', '-c', script], (s) => {
      const r = resources(s);
      // the whole container runs under the quota (set-up included): not too small under TCG
      r.cpu = { quota: 50000, period: 100000, shares: 512 };
      r.blockIO = { throttleReadBpsDevice: [{ ...ram!, rate: MiB }], throttleWriteIOPSDevice: [{ ...ram!, rate: 100 }] };
      r.memory = { limit: 64 * MiB, reservation: 16 * MiB };
      r.pids = { limit: 50 };
    });
    expect(r.code, explain(r)).toBe(0);
    // the cgroup namespace's root is the container's cgroup
    expect(r.stdout).toMatch(/^0::\/$/m);
    const seen = Object.fromEntries(r.stdout.split('\n').filter((l) => /^[a-z.]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(seen).toEqual({
      'cpu.max': '50000 100000',
      'cpu.weight': '59', // runc's shares -> weight conversion of 512
      'io.max': `${ram!.major}:${ram!.minor} rbps=1048576 wbps=max riops=max wiops=100`,
      'memory.max': String(64 * MiB),
      'memory.low': String(16 * MiB),
      'pids.max': '50',
    });
    expect(Number(/nr_throttled (\d+)/.exec(r.stdout)?.[1])).toBeGreaterThan(0);
  });

  describe('a running container', () => {
    let c: Detached;
    /** The files' contents as the container reads them (one exec). */
    const inside = async (...files: string[]) =>
      (await tsruncOk(['exec', c.id, 'cat', ...files.map((f) => `/sys/fs/cgroup/${f}`)])).trim().split('\n');

    beforeAll(async () => {
      if (!VM) return;
      // holds a 4 MiB string, then ticks twice a second
      c = await runDetached(
        ['sh', '-c', 'x=0123456789abcdef; while [ ${#x} -lt 4194304 ]; do x=$x$x; done; echo ready; while :; do sleep 0.5; echo tick; done'],
        (s) => void Object.assign(resources(s), { memory: { limit: 64 * MiB }, pids: { limit: 20 } }),
      );
      await until('4 MiB in use', () => c.output().includes('ready') && Number(cgRead(c.id, 'memory.current')) >= 4 * MiB);
    });
    afterAll(async () => {
      if (c) await remove(c);
    });

    it('events --stats reports memory and pids usage', async () => {
      const ev = JSON.parse(await tsruncOk(['events', '--stats', c.id])) as {
        type: string;
        data: { memory: { usage: { usage: number; limit: number } }; pids: { current: number; limit: number }; cpu: { usage: { total: number } } };
      };
      expect(ev.type).toBe('stats');
      expect(ev.data.memory.usage.usage).toBeGreaterThanOrEqual(4 * MiB);
      expect(ev.data.memory.usage.limit).toBe(64 * MiB);
      expect(ev.data.pids).toMatchObject({ limit: 20 });
      expect(ev.data.pids.current).toBeGreaterThanOrEqual(1);
      expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
    });

    it('update --memory --pids-limit changes the limits the container reads', async () => {
      await tsruncOk(['update', '--memory', '48m', '--pids-limit', '7', c.id]);
      expect(await inside('memory.max', 'pids.max')).toEqual([String(48 * MiB), '7']);
    });

    it('update sets a controller the create did not need (cpu.max), as runc does', async () => {
      // runc enables every available controller for the container's cgroup, so any limit can come later
      await tsruncOk(['update', '--cpu-quota', '50000', '--cpu-period', '100000', c.id]);
      expect(await inside('cpu.max')).toEqual(['50000 100000']);
    });

    it('a failed update changes nothing', async () => {
      const now = () => ({ mem: cgRead(c.id, 'memory.max'), pids: cgRead(c.id, 'pids.max') });
      const before = now();
      // memory below the current usage with checkBeforeUpdate
      let r = await tsrunc(['update', '-r', '-', c.id], { input: JSON.stringify({ pids: { limit: 5 }, memory: { limit: MiB, checkBeforeUpdate: true } }) });
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.stderr).toMatch(/below the current usage/);
      expect(now()).toEqual(before);
      // a negative limit: refused before any write, with the JSON path
      r = await tsrunc(['update', '--pids-limit', '5', '--memory', '-5', c.id]);
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.stderr).toMatch(/memory\.limit/);
      expect(now()).toEqual(before);
      // a value the kernel refuses (the VM has 2 CPUs) after others were written: rolled back
      r = await tsrunc(['update', '--pids-limit', '5', '--memory', '40m', '--cpuset-cpus', '7', c.id]);
      expect(r.code, explain(r)).not.toBe(0);
      expect(now()).toEqual(before);
    });

    it('ps -f json lists the pids of the cgroup', async () => {
      // the init forks a `sleep` twice a second: compare with the cgroup before and after
      const procs = () => cgRead(c.id, 'cgroup.procs').split('\n').map(Number);
      const before = procs();
      const pids = JSON.parse(await tsruncOk(['ps', '-f', 'json', c.id])) as number[];
      const after = procs();
      // The init as the kernel knows it (pid 1 of its namespace, in cgroup.procs), not state.json's pid.
      const isInit = (p: number) => {
        try {
          return /^NSpid:.*\s1$/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));
        } catch {
          return false;
        }
      };
      const init = before.filter((p) => after.includes(p) && isInit(p));
      expect(init).toHaveLength(1);
      expect(pids).toContain(init[0]);
      for (const pid of before.filter((p) => after.includes(p))) expect(pids).toContain(pid);
      for (const pid of pids) expect(before.includes(pid) || after.includes(pid) || !existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(true);
    });

    it('pause freezes the cgroup (state paused), resume thaws it', async () => {
      const ticks = () => c.output().split('\n').filter((l) => l === 'tick').length;
      await tsruncOk(['pause', c.id]);
      expect((await state(c.id)).status).toBe('paused');
      expect(parseKeyValues(cgRead(c.id, 'cgroup.events')).get('frozen')).toBe(1);
      const frozenAt = ticks();
      await sleep(1500);
      expect(ticks()).toBe(frozenAt);
      await tsruncOk(['resume', c.id]);
      expect(parseKeyValues(cgRead(c.id, 'cgroup.events')).get('frozen')).toBe(0);
      await until('a tick after resume', () => ticks() > frozenAt);
      expect((await state(c.id)).status).toBe('running');
    });
  });

  it('kill --all ends every process of a container that shares the host pid namespace', async () => {
    const c = await runDetached(['sh', '-c', 'sleep 1000 & sleep 1000 & echo started; wait'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    try {
      await until('three processes', () => cgRead(c.id, 'cgroup.procs').split('\n').length === 3);
      const pids = JSON.parse(await tsruncOk(['ps', '-f', 'json', c.id])) as number[];
      expect(pids).toHaveLength(3);
      await tsruncOk(['kill', '--all', c.id, 'KILL']);
      await until('an empty cgroup', () => cgRead(c.id, 'cgroup.procs') === '');
      expect((await state(c.id)).status).toBe('stopped');
      for (const pid of pids) expect(existsSync(`/proc/${pid}/status`) && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))).toBe(false);
    } finally {
      await remove(c);
    }
  });

  it('device rules: deny-all plus an allow list decide open(2); config nodes are allowed', async () => {
    const script = [
      'head -c1 /dev/zero | wc -c', // default list
      'echo hi > /dev/mydev && echo mydev-ok', // linux.devices node (c 1:3) gets a rule of its own
      'mknod /dev/kmsg c 1 11 && echo mknod-kmsg-ok', // mknod is allowed for any device (runc's defaults)
      'head -c1 /dev/kmsg',
      'mknod /dev/ram0 b 1 0 && echo mknod-ram0-ok',
      'dd if=/dev/ram0 bs=512 count=1 2>/dev/null | wc -c', // b 1:0 r
      'echo x > /dev/ram0 || echo ram0-write-denied',
      'true',
    ].join('; ');
    const r = await runOnce(['sh', '-c', script], (s) => {
      const caps = s.process!.capabilities!;
      for (const set of [caps.bounding!, caps.effective!, caps.permitted!]) set.push('CAP_MKNOD');
      s.linux!.devices = [{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
      resources(s).devices = [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'b', major: ram!.major, minor: ram!.minor, access: 'r' },
      ];
    });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout.split('\n'), explain(r)).toEqual(expect.arrayContaining(['1', 'mydev-ok', 'mknod-kmsg-ok', 'mknod-ram0-ok', '512', 'ram0-write-denied']));
    expect(r.stderr).toMatch(/\/dev\/kmsg: Operation not permitted/);
    expect(r.stderr).toMatch(/\/dev\/ram0: Operation not permitted/);
  });

  it('device rules: an explicit deny after allow-all denies that device only', async () => {
    const script = 'head -c1 /dev/kmsg; echo "kmsg=$?"; dd if=/dev/ram0 bs=512 count=1 2>/dev/null | wc -c';
    const r = await runOnce(['sh', '-c', script], (s) => {
      // host nodes bound in: only the rules decide
      s.mounts!.push(
        { destination: '/dev/kmsg', type: 'bind', source: '/dev/kmsg', options: ['bind'] },
        { destination: '/dev/ram0', type: 'bind', source: '/dev/ram0', options: ['bind'] },
      );
      resources(s).devices = [
        { allow: true, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 11, access: 'rwm' },
      ];
    });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout, explain(r)).toMatch(/^kmsg=1$/m);
    expect(r.stderr).toMatch(/\/dev\/kmsg: Operation not permitted/);
    expect(r.stdout, explain(r)).toMatch(/^512$/m);
  });
});

// Every test deletes its containers: none may be listed, and no container cgroup may be left.
afterAll(async () => {
  if (!VM) return;
  expect(existsSync(testRoot()) ? readdirSync(testRoot()) : []).toEqual([]);
  const cgroups = existsSync('/sys/fs/cgroup/tsrunc')
    ? readdirSync('/sys/fs/cgroup/tsrunc', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
    : [];
  expect(cgroups).toEqual([]);
});
