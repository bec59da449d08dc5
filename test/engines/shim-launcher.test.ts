// The shim binary's `delete` as containerd 1.6 runs it (dist/containerd-shim-tsrunc-v2, the C launcher of
// native/shimlaunch): it answers without Node only when the server left its deleted-marker for this very
// bundle and nothing is left; in every other case the Node `delete` must run and clean up. Mounts are made
// in a private mount namespace (unshare -m), so nothing can outlive a test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DeleteResponseSchema, fromBinary } from '../../src/shim/proto';
import { childEnv, REPO } from '../helpers/base';

const SHIM = join(REPO, 'dist', 'containerd-shim-tsrunc-v2');
const isLauncher = existsSync(SHIM) && readFileSync(SHIM).subarray(0, 4).toString('latin1') === '\x7fELF';
const root = process.getuid?.() === 0;

describe.skipIf(!root)('shim launcher: delete', () => {
  test('the binary containerd runs is the launcher (node-gyp built it, the build copied it)', () => {
    expect(isLauncher).toBe(true);
  });

  let dir = '';
  let bundle = '';
  let stateRoot = '';
  const id = 'ctr-1';

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsrunc-launcher-'));
    bundle = join(dir, 'bundle');
    stateRoot = join(dir, 'state');
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    mkdirSync(stateRoot, { mode: 0o700 });
    writeFileSync(join(bundle, 'tsrunc-shim.json'), JSON.stringify({ root: stateRoot, rootfsMounted: true, pid: 4242 }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The marker as the server writes it (src/shim/service/deleted-marker.ts). */
  const writeMarker = (ino = statSync(join(bundle, 'tsrunc-shim.json')).ino) =>
    writeFileSync(join(bundle, '.tsrunc-shim-deleted'), `v1 ${ino} 4242\n${stateRoot}\n`);

  /**
   * `SHIM ... delete` in a private mount namespace, with `pre` run first (mounts); reports its exit code,
   * its output, and whether bundle/rootfs was still a mount point afterwards. `noNode`: PATH without node,
   * so a call that needs Node fails with 127.
   */
  function runDelete(opts: { pre?: string; noNode?: boolean } = {}) {
    const out = join(dir, 'out.bin');
    const script = `${opts.pre ?? ':'}; env \${NONODE:+PATH=/nonexistent} "$SHIM" -namespace ns1 -address /run/containerd/containerd.sock -publish-binary /usr/bin/containerd -id ${id} -bundle "$B" delete >"$OUT"; echo "rc=$?"; grep -c " $B/rootfs " /proc/self/mountinfo || true`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      env: childEnv({ SHIM, B: bundle, OUT: out, NONODE: opts.noNode ? '1' : '' }),
    });
    const rc = Number(/rc=(\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const mounted = Number(r.stdout.trim().split('\n').pop()) > 0;
    return { rc, stderr: r.stderr, mounted, out: existsSync(out) ? readFileSync(out) : Buffer.alloc(0) };
  }

  test('marker and nothing left: the DeleteResponse without Node (the init pid, 137, now)', () => {
    writeMarker();
    const t0 = Date.now();
    const r = runDelete({ noNode: true });
    expect(r.rc, r.stderr).toBe(0);
    const resp = fromBinary(DeleteResponseSchema, r.out);
    expect(resp.pid).toBe(4242);
    expect(resp.exitStatus).toBe(137);
    const at = Number(resp.exitedAt!.seconds) * 1000 + resp.exitedAt!.nanos / 1e6;
    expect(at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  });

  test('no marker (the shim died): Node runs and unmounts the rootfs', () => {
    expect(runDelete({ noNode: true }).rc).toBe(127);
    const r = runDelete({ pre: 'mount -t tmpfs tmpfs "$B/rootfs"' });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.mounted).toBe(false);
    expect(fromBinary(DeleteResponseSchema, r.out).pid).toBe(4242);
  });

  test('marker, but the rootfs is still mounted: Node runs and unmounts it', () => {
    writeMarker();
    expect(runDelete({ pre: 'mount -t tmpfs tmpfs "$B/rootfs"', noNode: true }).rc).toBe(127);
    const r = runDelete({ pre: 'mount -t tmpfs tmpfs "$B/rootfs"' });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.mounted).toBe(false);
  });

  test('a marker of an earlier container in the same bundle directory does not count', () => {
    writeMarker();
    // A new container's bundle info replaces the file (a new inode): the marker is stale. Its finished Create
    // mounted the rootfs (an unfinished one would have journaled the mount in its state dir instead).
    writeFileSync(join(bundle, 'tsrunc-shim.json.new'), JSON.stringify({ root: stateRoot, rootfsMounted: true, pid: 99 }));
    spawnSync('mv', [join(bundle, 'tsrunc-shim.json.new'), join(bundle, 'tsrunc-shim.json')]);
    expect(runDelete({ noNode: true }).rc).toBe(127);
    const r = runDelete({ pre: 'mount -t tmpfs tmpfs "$B/rootfs"' });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.mounted).toBe(false);
  });

  test('marker, but a state directory is left: Node runs', () => {
    writeMarker();
    mkdirSync(join(stateRoot, id));
    expect(runDelete({ noNode: true }).rc).toBe(127);
  });

  test("marker, but a dead shim's socket file is left: Node runs and removes it", async () => {
    writeMarker();
    // A socket file nobody listens on, as a killed shim leaves it (Node unlinks its socket on close: a
    // hard link taken before keeps the file).
    const sock = join(dir, 's.sock');
    const srv = createServer();
    await new Promise<void>((res) => srv.listen(sock, res));
    spawnSync('ln', [sock, `${sock}.kept`]);
    await new Promise<void>((res) => srv.close(() => res()));
    spawnSync('mv', [`${sock}.kept`, sock]);
    writeFileSync(join(bundle, 'address'), `unix://${sock}`);
    expect(runDelete({ noNode: true }).rc).toBe(127);
    const r = runDelete();
    expect(r.rc, r.stderr).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  test('marker and a live shim on the socket (it serves other containers): no Node, the socket stays', async () => {
    writeMarker();
    const sock = join(dir, 'live.sock');
    const srv = createServer((c) => c.destroy());
    await new Promise<void>((res) => srv.listen(sock, res));
    try {
      writeFileSync(join(bundle, 'address'), `unix://${sock}`);
      const r = runDelete({ noNode: true });
      expect(r.rc, r.stderr).toBe(0);
      expect(existsSync(sock)).toBe(true);
    } finally {
      await new Promise<void>((res) => srv.close(() => res()));
    }
  });
});
