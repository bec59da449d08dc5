// Inside the AppArmor guest: dockerd 20.10 (Debian) loads its docker-default profile itself and names it in
// every container's config.json; with tsrunc as the runtime the container runs under it. The guest is thrown
// away after the suite, so the daemons get a plain temp dir rather than test/engines' isolation (whose 30 s
// start-up limit dockerd exceeds under TCG).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, showRun } from '../engines/harness';
import { makeBusyboxImage, type ImageArchive } from '../engines/image';
import { TSRUNC_CJS } from '../helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dockerd with AppArmor, tsrunc as its runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-aa-docker-'));
  const sock = { containerd: join(dir, 'containerd.sock'), docker: join(dir, 'docker.sock') };
  const daemons: ChildProcess[] = [];
  let image: ImageArchive;
  const docker = (args: string[], timeout = 120_000) => run('/usr/bin/docker', ['-H', `unix://${sock.docker}`, ...args], { timeout });

  function daemon(name: string, argv: string[]): ChildProcess {
    const log = openSync(join(dir, `${name}.log`), 'w');
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', log, log] });
    closeSync(log);
    child.on('error', () => {});
    daemons.push(child);
    return child;
  }

  async function ready(name: string, child: ChildProcess, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 150_000;
    while (!(await probe())) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline)
        throw new Error(`${name} did not come up:\n${readFileSync(join(dir, `${name}.log`), 'utf8').slice(-2000)}`);
      await sleep(250);
    }
  }

  beforeAll(async () => {
    const tsrunc = join(dir, 'tsrunc');
    writeFileSync(tsrunc, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nexec ${process.execPath} ${TSRUNC_CJS} "$@"\n`);
    chmodSync(tsrunc, 0o755);
    mkdirSync(join(dir, 'image'));
    image = makeBusyboxImage(join(dir, 'image'));
    const config = join(dir, 'containerd.toml');
    writeFileSync(
      config,
      [`version = 2`, `root = "${dir}/containerd/root"`, `state = "${dir}/containerd/state"`,
        `disabled_plugins = ["io.containerd.grpc.v1.cri"]`, `[grpc]`, `  address = "${sock.containerd}"`, ''].join('\n'),
    );
    const c = daemon('containerd', ['containerd', '--config', config]);
    await ready('containerd', c, async () => existsSync(sock.containerd) && (await run('ctr', ['-a', sock.containerd, 'version'], { timeout: 20_000 })).code === 0);
    const d = daemon('dockerd', [
      'dockerd', '--data-root', join(dir, 'docker'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'),
      '-H', `unix://${sock.docker}`, '--containerd', sock.containerd, '--add-runtime', `tsrunc=${tsrunc}`,
      '--iptables=false', '--bridge=none', '--ip-forward=false', '--ip-masq=false', '--userland-proxy=false',
    ]);
    await ready('dockerd', d, async () => existsSync(sock.docker) && (await docker(['version'], 20_000)).code === 0);
    const load = await docker(['load', '-i', image.tar]);
    if (load.code !== 0) throw new Error(`docker load: ${showRun(load)}`);
  }, 300_000);

  afterAll(async () => {
    for (const child of daemons.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it("docker run: the container runs under dockerd's docker-default profile", async () => {
    const info = await docker(['info', '--format', '{{json .SecurityOptions}}']);
    expect(info.stdout, showRun(info)).toContain('name=apparmor');
    const r = await docker(['run', '--rm', '--runtime', 'tsrunc', '--network', 'none', image.tag, 'cat', '/proc/self/attr/current']);
    expect(r.code, showRun(r)).toBe(0);
    expect(r.stdout.trim()).toBe('docker-default (enforce)');
  }, 180_000);
});
