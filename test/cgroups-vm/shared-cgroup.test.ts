// Inside the VM (real controllers): a second container given the cgroupsPath of a running one is refused
// before any of its limits is written, so the first keeps its own; nothing of the refused create stays.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle, state, testRoot, tsrunc, tsruncOk, uniqueId, type Spec } from '../helpers';
import { inTestVm } from './helpers';

const VM = inTestVm();
const MiB = 1 << 20;

describe.skipIf(!VM)('one cgroup, two containers (VM)', () => {
  it('the second is refused naming linux.cgroupsPath; the first keeps its limits', async () => {
    const parent = `/cgsafe-${uniqueId('p')}`;
    const path = `${parent}/shared`;
    const dir = `/sys/fs/cgroup${path}`;
    const read = (file: string) => readFileSync(join(dir, file), 'utf8').trim();
    const limits = (mem: number, pids: number) => (s: Spec) => {
      s.linux!.cgroupsPath = path;
      s.linux!.resources = { memory: { limit: mem * MiB }, pids: { limit: pids } };
    };
    const a = uniqueId('vma');
    const b = uniqueId('vmb');
    const bundleA = makeBundle({ args: ['sleep', '1000'], mutate: limits(64, 50) });
    const bundleB = makeBundle({ args: ['sleep', '1000'], mutate: limits(32, 20) });
    try {
      await tsruncOk(['create', '--bundle', bundleA.dir, a]);
      const { pid } = await state(a);
      const before = { mem: read('memory.max'), pids: read('pids.max'), sub: readFileSync(`/sys/fs/cgroup${parent}/cgroup.subtree_control`, 'utf8') };
      expect(before.mem).toBe(String(64 * MiB));
      const r = await tsrunc(['create', '--bundle', bundleB.dir, b]);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/linux\.cgroupsPath: cgroup .*shared already has processes/);
      expect(existsSync(join(testRoot(), b))).toBe(false);
      expect(read('memory.max')).toBe(before.mem);
      expect(read('pids.max')).toBe(before.pids);
      expect(readFileSync(`/sys/fs/cgroup${parent}/cgroup.subtree_control`, 'utf8')).toBe(before.sub);
      expect(read('cgroup.procs')).toBe(String(pid));
    } finally {
      for (const id of [a, b]) await tsrunc(['delete', '--force', id]);
      bundleA.remove();
      bundleB.remove();
    }
    expect(existsSync(`/sys/fs/cgroup${parent}`)).toBe(false);
  });
});
