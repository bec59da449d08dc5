// OCI hooks run by our shim (a long-lived server, where the runtime library starts them with the addon's
// posix_spawn and waits on its own event loop): each host-side hook gets the state of its moment, runs as
// the shim's child, and a failing one fails the run with its output and leaves nothing behind.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineEnv, installed, REPO, uniqueId, showRun } from './harness';
import * as ctrTasks from './ctr-tasks';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const haveContainerd = installed('containerd') && installed('ctr');

describe.skipIf(!haveContainerd)('hooks under containerd-shim-tsrunc-v2', () => {
  let env: EngineEnv;
  let baseSpec: Record<string, unknown>;

  beforeAll(async () => {
    env = await EngineEnv.start({ image: { dirs: ['run'] } });
    makeBusyboxRootfs(join(env.dir, 'hook-rootfs'));
    baseSpec = JSON.parse((await env.ctr(['oci', 'spec'])).stdout) as Record<string, unknown>;
  });

  afterAll(async () => {
    await env?.stop();
  });

  const out = (id: string, kind: string) => join(env.dir, 'logs', `${id}-${kind}`);
  /** A hook that saves its stdin and its parent's command line, then exits with `code` (saying why). */
  const saver = (id: string, kind: string, code = 0) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `cat > ${out(id, kind)}.json; tr '\\0' ' ' < /proc/$PPID/cmdline > ${out(id, kind)}.parent; echo "${kind} says no" >&2; exit ${code}`],
  });

  function specFile(id: string, hooks: Record<string, unknown>): string {
    const spec = structuredClone(baseSpec) as { process: { args: string[]; terminal?: boolean }; root: unknown; hooks?: unknown; linux: { cgroupsPath?: string } };
    spec.process.args = ['echo', 'ran'];
    spec.process.terminal = false;
    spec.root = { path: join(env.dir, 'hook-rootfs'), readonly: true };
    spec.hooks = hooks;
    spec.linux.cgroupsPath = `/${env.ns}/${id}`;
    const file = join(env.dir, 'logs', `spec-${id}.json`);
    writeFileSync(file, JSON.stringify(spec));
    return file;
  }

  test('createRuntime, poststart and poststop get their state and run as the shim\'s children', async () => {
    const id = uniqueId('hk');
    const hooks = { createRuntime: [saver(id, 'createRuntime')], poststart: [saver(id, 'poststart')], poststop: [saver(id, 'poststop')] };
    const r = await env.ctr(['run', '--rm', '--runtime', SHIM, '--config', specFile(id, hooks), id], { timeout: 30_000 });
    expect(r.code, showRun(r, env.daemonLog('containerd'))).toBe(0);
    expect(r.stdout).toBe('ran\n');
    for (const [kind, status] of [['createRuntime', 'creating'], ['poststart', 'running'], ['poststop', 'stopped']] as const) {
      const state = JSON.parse(readFileSync(`${out(id, kind)}.json`, 'utf8')) as { id: string; status: string; ociVersion: string };
      expect(state, kind).toMatchObject({ id, status, ociVersion: '1.3.0' });
      // createRuntime through the hook stub, which execs the hook in place: the parent is the shim either way
      expect(readFileSync(`${out(id, kind)}.parent`, 'utf8'), kind).toContain('containerd-shim-tsrunc-v2');
    }
  });

  test('a failing createRuntime hook fails the run with its output, and nothing of the container is left', async () => {
    const id = uniqueId('hk');
    const r = await env.ctr(['run', '--rm', '--runtime', SHIM, '--config', specFile(id, { createRuntime: [saver(id, 'createRuntime', 3)] }), id], { timeout: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('hooks.createRuntime[0]: exit status 3: createRuntime says no');
    expect(existsSync(`${out(id, 'createRuntime')}.json`)).toBe(true);
    expect(await ctrTasks.taskStatus(env, id)).toBeUndefined();
    await ctrTasks.removeAll(env, id);
  });
});
