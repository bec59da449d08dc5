// What a killed create or run leaves, and a container whose init died before its children, all go with
// `delete --force`; `state` and `list` do not show a half-made container.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alive,
  cgroupOf,
  cgroupProcs,
  containerCgroupDir,
  expectNothingLeft,
  hostDir,
  hostSnapshot,
  makeBundle,
  spawnTsrunc,
  state,
  testRoot,
  tsrunc,
  tsruncOk,
  uniqueId,
  waitFor,
  waitForStatus,
  type Bundle,
  type Spec,
} from '../helpers';

describe('remains of a killed create', () => {
  it('delete --force removes the state directory and the default cgroup', async () => {
    const id = uniqueId('half');
    const stateDir = join(testRoot(), id);
    const cgroupDir = containerCgroupDir(id);
    mkdirSync(stateDir);
    mkdirSync(cgroupDir, { recursive: true });
    expect(existsSync(cgroupDir)).toBe(true);
    expect((await tsrunc(['list', '-q'])).stdout).not.toContain(id);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code).toBe(0);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(cgroupDir)).toBe(false);
  });
});

/** A bundle with a host dir bound at /host (for files the container writes); the dir is returned too. */
function bundleWithHost(args: string[], mutate?: (s: Spec) => void): { bundle: Bundle; host: string } {
  const host = hostDir('cleanup');
  const bundle = makeBundle({
    args,
    mutate: (s) => {
      s.mounts!.push({ destination: '/host', type: 'bind', source: host, options: ['rbind', 'rw'] });
      mutate?.(s);
    },
  });
  return { bundle, host };
}

const readPid = (file: string) => Number(readFileSync(file, 'utf8').trim());

describe('tsrunc itself killed (SIGKILL) mid-way: delete --force cleans what is left', () => {
  it('mid-create (in a createRuntime hook): the waiting init, its cgroup and state dir go', async () => {
    const id = uniqueId('midc');
    const { bundle, host } = bundleWithHost(['true']);
    // The hook tells us it runs (create is half-way: namespaces, init and cgroup exist), then waits.
    const hook = join(bundle.dir, 'hold.sh');
    writeFileSync(hook, `#!/bin/sh\ncat > ${host}/state\necho $$ > ${host}/hook.pid\nexec sleep 1000\n`, { mode: 0o755 });
    bundle.spec.hooks = { createRuntime: [{ path: hook }] };
    bundle.save();
    const before = hostSnapshot();
    const child = spawnTsrunc(['create', '--bundle', bundle.dir, id], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    const hookPid = await waitFor('the createRuntime hook', () => existsSync(join(host, 'hook.pid')) && readPid(join(host, 'hook.pid')), 20_000);
    const initPid = (JSON.parse(readFileSync(join(host, 'state'), 'utf8')) as { pid: number }).pid;
    expect(alive(initPid)).toBe(true);
    expect(cgroupOf(initPid)).toBe(`/tsrunc/${id}`);
    child.kill('SIGKILL');
    await exited;
    process.kill(hookPid, 'SIGKILL'); // the hook is ours to stop: the runtime that ran it is gone
    // What is left: the state dir and the cgroup; the init waiting for the runtime's go-ahead may already
    // have seen its socket close and exited (or still be there for delete to kill).
    expect(existsSync(join(testRoot(), id))).toBe(true);
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(`init ${initPid} to be gone`, () => !alive(initPid));
    expectNothingLeft(before, id, { bundleDir: bundle.dir, pids: [initPid] });
  });

  it('mid-run (the container running in the foreground): the container, its cgroup and state dir go', async () => {
    const id = uniqueId('midr');
    const { bundle, host } = bundleWithHost(['sh', '-c', 'sleep 1000 & echo $$ > /host/ready; wait']);
    const before = hostSnapshot();
    const child = spawnTsrunc(['run', '--bundle', bundle.dir, id], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await waitFor('the container to start', () => existsSync(join(host, 'ready')), 20_000);
    const st = await state(id);
    const procs = cgroupProcs(containerCgroupDir(id));
    expect(procs).toContain(st.pid);
    expect(procs.length).toBeGreaterThanOrEqual(2); // sh and its sleep
    child.kill('SIGKILL');
    await exited;
    // The container outlives its runtime.
    expect(alive(st.pid!)).toBe(true);
    expect((await state(id)).status).toBe('running');
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('the container processes to be gone', () => procs.every((p) => !alive(p)));
    expectNothingLeft(before, id, { bundleDir: bundle.dir, pids: procs });
  });
});

describe('delete --force of a container without its own pid namespace', () => {
  it('whose init died while its children live on: the children, the cgroup and the state go', async () => {
    const id = uniqueId('nopidns');
    const { bundle, host } = bundleWithHost(['sh', '-c', 'sleep 1000 & sleep 1000 & echo $! > /host/child; exit 0'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    const before = hostSnapshot();
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    await waitForStatus(id, 'stopped', { timeout: 20_000 });
    // Without a pid namespace the children do not die with the init: they are still in the cgroup.
    const child = readPid(join(host, 'child'));
    expect(alive(child)).toBe(true);
    const left = cgroupProcs(containerCgroupDir(id));
    expect(left).toContain(child);
    expect(left.length).toBe(2);
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('the orphaned children to be gone', () => left.every((p) => !alive(p)));
    expectNothingLeft(before, id, { bundleDir: bundle.dir, pids: left });
  });
});
