// The shim's Kill with all=true (containerd's `ctr task kill --all`) in a cgroup tsrunc did not make
// signals only the container's processes, as `tsrunc kill --all` does (cgroup-safety.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateTaskRequestSchema } from '../../src/shim/proto';
import { TaskService } from '../../src/shim/service/task';
import { native } from '../../src/runtime/native';
import { alive, cgroupPathDir, cgroupProcs, makeBundle, runId, testRoot, waitFor } from '../helpers';

const path = `/tsrunc-test-${runId()}-cgsafe-shim-${randomBytes(2).toString('hex')}`;
const host: ChildProcess[] = [];

afterAll(async () => {
  for (const p of host) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
  }
  if (existsSync(cgroupPathDir(path))) rmdirSync(cgroupPathDir(path));
});

describe('shim Kill all=true in a pre-existing cgroup', () => {
  it('reaches the container\'s processes, not a host process in the same cgroup', async () => {
    mkdirSync(cgroupPathDir(path));
    native().setChildSubreaper(true); // as the shim is: the container's init becomes our child
    const svc = new TaskService({
      namespace: 'cgsafe', events: { publish: () => undefined }, log: () => undefined, onShutdown: () => undefined,
      config: { root: testRoot(), group: 'namespace' } as never,
    });
    const id = `cgsafe-shim-${randomBytes(3).toString('hex')}`;
    const bundle = makeBundle({
      args: ['sh', '-c', 'sleep 1001 & exec sleep 1002'],
      mutate: (s) => {
        s.linux!.cgroupsPath = path;
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      },
    });
    try {
      await svc.create(create(CreateTaskRequestSchema, { id, bundle: bundle.dir }));
      await svc.start({ id, execId: '' });
      const mine = await waitFor('the container\'s two processes', () => { const p = cgroupProcs(cgroupPathDir(path)); return p.length === 2 && p; });
      const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
      host.push(sleeper);
      writeFileSync(join(cgroupPathDir(path), 'cgroup.procs'), String(sleeper.pid));
      await svc.kill({ id, execId: '', signal: 9, all: true });
      await waitFor('the container\'s processes gone', () => mine.every((p) => !alive(p)));
      expect(alive(sleeper.pid!), 'the host process in the same cgroup').toBe(true);
      expect(cgroupProcs(cgroupPathDir(path))).toEqual([sleeper.pid]);
    } finally {
      await svc.kill({ id, execId: '', signal: 9, all: false }).catch(() => undefined);
      await svc.wait({ id, execId: '' }).catch(() => undefined);
      await svc.delete({ id, execId: '' }).catch(() => undefined);
      bundle.remove();
    }
  });
});
