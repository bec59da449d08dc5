// The Kubernetes path: containerd 1.6's built-in CRI plugin with `runtime_type = "io.containerd.tsrunc.v2"`
// (our shim, found by name on containerd's PATH), driven over CRI v1 gRPC the way kubelet drives it
// (test/engines/cri-client.ts; crictl is not packaged in Debian 12). A host-network pod (no CNI is
// installed, and the plugin needs none for it) with a shared pid namespace, its sandbox running a static
// pause built here, and two containers: all three are served by ONE shim process, and nothing is left
// once the pod is stopped and removed.
// On this host the plugin runs without cgroups (see CGROUPS); the real-node setting, with the pods'
// cgroup_parent and cpu.weight, runs in the qemu guest (~3 min under TCG):
//   test/vm/run-in-vm.sh env CI=1 node node_modules/vitest/vitest.mjs run --config test/engines/vitest.config.ts test/engines/cri.test.ts
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cgroup2Mount } from '../helpers/mountinfo';
import { CriClient, type Msg } from './cri-client';
import { alive, EngineEnv, installed, ourShimProcesses, REPO } from './harness';
import { makeBusyboxImage } from './image';

const K8S_NS = 'k8s.io'; // the CRI plugin's containerd namespace
const PAUSE_IMAGE = 'docker.io/tsrunc-test/pause:cri';
const BUSYBOX = 'docker.io/tsrunc-test/busybox:latest';
const haveTools = installed('containerd') && installed('ctr') && installed('cc');

/**
 * Whether cgroup v2 has the cpu controller. The CRI plugin gives every sandbox cpu.shares 2, which needs
 * it (runc fails the same way without it). On this hybrid host cpu is bound to v1, so the plugin runs with
 * `disable_cgroup`: no cgroupsPath in the specs, and tsrunc puts each container in its default /tsrunc/<id>.
 * Where cpu is in v2, the pods' cgroup_parent is used and checked instead.
 */
const CGROUPS = ((): boolean => {
  const root = cgroup2Mount();
  return !!root && readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu');
})();

/**
 * Whether we hold CAP_SYS_RESOURCE (bit 24), which lowering an oom_score_adj needs. This machine's root
 * lacks it; the plugin gives sandboxes -998, so it then runs with `restrict_oom_score_adj` (its setting for
 * an unprivileged containerd: scores are raised to containerd's own), as any runtime would fail otherwise.
 */
const SYS_RESOURCE = ((): boolean => {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return (BigInt('0x' + eff) & (1n << 24n)) !== 0n;
})();

/** The CRI plugin's config: the README's snippet plus what a test machine needs (no registry, no CNI). */
function criConfig(dir: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    `[${cri}]`,
    `  sandbox_image = "${PAUSE_IMAGE}"`,
    // Else the plugin loads its own AppArmor profile into the host's kernel where AppArmor is on.
    '  disable_apparmor = true',
    `  disable_cgroup = ${!CGROUPS}`,
    `  restrict_oom_score_adj = ${!SYS_RESOURCE}`,
    `[${cri}.containerd]`,
    '  default_runtime_name = "tsrunc"',
    `[${cri}.containerd.runtimes.tsrunc]`,
    '  runtime_type = "io.containerd.tsrunc.v2"',
    `[${cri}.containerd.runtimes.tsrunc.options]`,
    `  ConfigPath = "${dir}/tsrunc-shim.json"`,
    // Host-network pods need no CNI; the plugin still watches (and creates) these directories.
    `[${cri}.cni]`,
    `  bin_dir = "${dir}/cni/bin"`,
    `  conf_dir = "${dir}/cni/net.d"`,
  ].join('\n');
}

const MODE = `${CGROUPS ? 'pod cgroup_parent' : 'disable_cgroup'}, ${SYS_RESOURCE ? 'oom -998' : 'restrict_oom_score_adj'}`;

describe.skipIf(!haveTools)(`containerd CRI plugin with runtime_type io.containerd.tsrunc.v2 (${MODE})`, () => {
  let env: EngineEnv;
  let cri: CriClient;
  const data = (): string => join(env.dir, 'pod-data');

  beforeAll(async () => {
    env = await EngineEnv.start({ cri: criConfig, containerdPath: [join(REPO, 'dist')] });
    writeFileSync(join(env.dir, 'tsrunc-shim.json'), JSON.stringify({ group: 'sandbox' }));
    mkdirSync(data());
    // The sandbox image: busybox plus a static pause as its command.
    const pause = join(env.dir, 'image', 'pause');
    execFileSync('cc', ['-static', '-O2', '-o', pause, join(REPO, 'test', 'engines', 'cri', 'pause.c')]);
    const pauseImage = makeBusyboxImage(join(env.dir, 'image-pause'), { repo: 'tsrunc-test/pause', tag: 'cri', files: { pause }, cmd: ['/pause'] });
    for (const tar of [pauseImage.tar, env.image.tar]) {
      const r = await env.exec('ctr', ['-a', env.containerdSock, '-n', K8S_NS, 'image', 'import', tar]);
      if (r.code !== 0) throw new Error(`image import: ${r.stderr}`);
    }
    cri = new CriClient(env.containerdSock);
  });

  afterAll(async () => {
    cri?.close();
    await env?.stop();
    // Without CGROUPS the cgroups are not named with the env's tag, so its teardown does not know them:
    // remove what a failed test left (its processes are gone with the env).
    const root = cgroup2Mount();
    for (const { pod, id } of made) {
      try {
        if (root) rmdirSync(join(root, cgroupOf(pod, id)));
      } catch {
        // gone, as it should be
      }
    }
  });

  const show = (): string => env.daemonLog('containerd').split('\n').slice(-25).join('\n');
  const bundle = (id: string): string => join(env.dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', K8S_NS, id);
  const stateRoot = (): string => join(env.dir, 'run', 'containerd', 'tsrunc', K8S_NS);
  /** Where a task's cgroup must be, relative to the cgroup2 root (see CGROUPS). */
  const cgroupOf = (pod: string, id: string): string => (CGROUPS ? `${env.tag}-cri/${pod}/${id}` : `tsrunc/${id}`);
  /** Every task the tests made, for the cgroup checks and the last-resort cleanup. */
  const made: Array<{ pod: string; id: string }> = [];

  async function poll<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await get();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms\n${show()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function ppidOf(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }

  /** Our shim processes serving the k8s.io namespace. */
  const shimProcesses = () => ourShimProcesses(K8S_NS, env.containerdSock);

  /** The shim containerd recorded for a task (`shim.pid` in its bundle), checked to be our node shim. */
  function shimOf(id: string): number {
    const pid = Number(readFileSync(join(bundle(id), 'shim.pid'), 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv[0]).toMatch(/node$/);
    expect(argv.some((a) => a.endsWith('containerd-shim-tsrunc-v2'))).toBe(true);
    return pid;
  }

  /** Mount points in the engines' namespace under `prefix`. */
  function mountsUnder(prefix: string): string[] {
    return readFileSync(`/proc/${env.holderPid}/mountinfo`, 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === prefix || m.startsWith(prefix + '/'));
  }

  const podConfig = (name: string): Msg => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    logDirectory: join(env.dir, 'logs', 'pods', name),
    labels: { app: name },
    linux: {
      cgroupParent: `/${env.tag}-cri/${name}`,
      // Host network (no CNI here); one pid namespace for the pod, so the containers join the sandbox's.
      securityContext: { namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'POD' } },
    },
  });

  const containerStatus = async (id: string, verbose = false): Promise<Msg> => cri.rt('ContainerStatus', { containerId: id, verbose });
  const infoPid = (r: Msg): number => (JSON.parse(r.info.info) as { pid: number }).pid;

  let sandboxId = '';
  let sandboxConfig: Msg;
  const ids = { writer: '', runner: '' };

  test('Version and the images: the CRI plugin answers and sees the imported images', async () => {
    const v = await cri.rt('Version', { version: 'v1' });
    expect(v.runtimeName).toBe('containerd');
    expect(v.runtimeApiVersion).toBe('v1');
    for (const image of [PAUSE_IMAGE, BUSYBOX]) {
      // The plugin learns about images from containerd's events: wait for it.
      const s = await poll(`ImageStatus ${image}`, () => cri.img('ImageStatus', { image: { image } }), (r) => !!r.image?.id);
      expect(s.image.repoTags).toContain(image);
    }
  });

  test('RunPodSandbox: the sandbox runs pause under our shim, with the runtime type from the config', async () => {
    sandboxConfig = podConfig('pod1');
    const r = await cri.rt('RunPodSandbox', { config: sandboxConfig }, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${show()}`);
    });
    sandboxId = r.podSandboxId;
    made.push({ pod: 'pod1', id: sandboxId });
    expect(sandboxId).toMatch(/^[0-9a-f]{64}$/);
    const s = await cri.rt('PodSandboxStatus', { podSandboxId: sandboxId, verbose: true });
    expect(s.status.state).toBe('SANDBOX_READY');
    expect(s.status.linux.namespaces.options).toMatchObject({ network: 'NODE', pid: 'POD', ipc: 'POD' });
    const info = JSON.parse(s.info.info) as { pid: number; runtimeType: string; runtimeOptions?: { config_path?: string } };
    expect(info.runtimeType).toBe('io.containerd.tsrunc.v2');
    expect(readFileSync(`/proc/${info.pid}/cmdline`, 'utf8')).toBe('/pause\0');
    expect(ppidOf(info.pid)).toBe(shimOf(sandboxId));
    // tsrunc's state for it, in the namespace's state root, in the pod's cgroup.
    const state = JSON.parse(readFileSync(join(stateRoot(), sandboxId, 'state.json'), 'utf8')) as { pid: number; cgroupDir: string };
    expect(state.pid).toBe(info.pid);
    expect(state.cgroupDir).toBe(`/sys/fs/cgroup/${cgroupOf('pod1', sandboxId)}`);
    // The plugin's sandbox settings reached the kernel: oom_score_adj -998 (containerd's own where it is
    // restricted; containerd inherits ours) and, with cgroups, its cpu.shares 2 as cpu.weight 1.
    const ownOom = readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
    expect(readFileSync(`/proc/${info.pid}/oom_score_adj`, 'utf8').trim()).toBe(SYS_RESOURCE ? '-998' : ownOom);
    if (CGROUPS) expect((await env.exec('cat', [join(state.cgroupDir, 'cpu.weight')])).stdout).toBe('1\n');
  });

  test('CreateContainer + StartContainer: two containers in the pod, its pid namespace and its mounts', async () => {
    const create = async (name: string, script: string): Promise<string> => {
      const r = await cri.rt('CreateContainer', {
        podSandboxId: sandboxId,
        sandboxConfig,
        config: {
          metadata: { name, attempt: 0 },
          image: { image: BUSYBOX },
          command: ['sh', '-c', script],
          envs: [{ key: 'WHO', value: name }],
          mounts: [{ containerPath: '/data', hostPath: data() }],
          logPath: `${name}.log`,
          labels: { role: name },
        },
      });
      made.push({ pod: 'pod1', id: r.containerId });
      await cri.rt('StartContainer', { containerId: r.containerId });
      return r.containerId as string;
    };
    // writer: writes a file into the shared mount, then sleeps; runner: runs until told, exits 3.
    ids.writer = await create('writer', 'echo "hello from $WHO" > /data/from-writer; echo started; exec sleep 1000');
    ids.runner = await create('runner', 'while [ ! -e /data/go ]; do sleep 0.05; done; cat /data/from-writer; echo "$WHO done" >&2; exit 3');
    for (const id of Object.values(ids)) {
      const s = await containerStatus(id);
      expect(s.status.state, show()).toBe('CONTAINER_RUNNING');
      expect(BigInt(s.status.startedAt)).toBeGreaterThan(0n);
    }
    await poll('the writer\'s file', async () => existsSync(join(data(), 'from-writer')), Boolean);
    expect(readFileSync(join(data(), 'from-writer'), 'utf8')).toBe('hello from writer\n');
    // Its stdout came through the shim's fifos into the CRI log file (kubelet's format: time stream tag line).
    const log = join(sandboxConfig.logDirectory, 'writer.log');
    await poll('the writer\'s log', async () => (existsSync(log) ? readFileSync(log, 'utf8') : ''), (t) => t.includes('started'));
    expect(readFileSync(log, 'utf8')).toMatch(/^\S+ stdout F started$/m);
    const listed = await cri.rt('ListContainers', { filter: { podSandboxId: sandboxId } });
    expect(listed.containers.map((c: Msg) => c.id).sort()).toEqual(Object.values(ids).sort());
  });

  test('ExecSync: output, stderr and exit code; the container shares the sandbox\'s pid namespace', async () => {
    const r = await cri.rt('ExecSync', { containerId: ids.writer, cmd: ['sh', '-c', 'cat /data/from-writer; echo "err $WHO" >&2; exit 4'], timeout: 30 });
    expect(Buffer.from(r.stdout).toString()).toBe('hello from writer\n');
    expect(Buffer.from(r.stderr).toString()).toBe('err writer\n');
    expect(r.exitCode).toBe(4);
    // pid 1 of the container's pid namespace is the sandbox's pause: the namespace path was joined.
    const p = await cri.rt('ExecSync', { containerId: ids.runner, cmd: ['cat', '/proc/1/cmdline'], timeout: 30 });
    expect(Buffer.from(p.stdout).toString()).toBe('/pause\0');
    expect(p.exitCode).toBe(0);
  });

  test('one shim serves the sandbox and both containers (grouped by io.kubernetes.cri.sandbox-id)', async () => {
    const shim = shimOf(sandboxId);
    for (const id of Object.values(ids)) {
      const spec = JSON.parse(readFileSync(join(bundle(id), 'config.json'), 'utf8')) as { annotations: Record<string, string> };
      expect(spec.annotations['io.kubernetes.cri.sandbox-id']).toBe(sandboxId);
      expect(shimOf(id)).toBe(shim);
      expect(ppidOf(infoPid(await containerStatus(id, true)))).toBe(shim);
    }
    expect(shimProcesses()).toEqual([shim]);
    const rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${shim}/status`, 'utf8'))![1]);
    console.log(`one shim for a pod of 3 tasks: RSS ${(rss / 1024).toFixed(1)} MiB`);
  });

  test('ContainerStats: CPU usage from the shim\'s cgroup v2 metrics', async () => {
    const r = await cri.rt('ContainerStats', { containerId: ids.writer });
    expect(r.stats.attributes.id).toBe(ids.writer);
    const usage = BigInt(r.stats.cpu?.usageCoreNanoSeconds?.value ?? 0);
    expect(usage, JSON.stringify(r.stats)).toBeGreaterThan(0n);
    const cg = JSON.parse(readFileSync(join(stateRoot(), ids.writer, 'state.json'), 'utf8')) as { cgroupDir: string };
    const usec = BigInt(/^usage_usec (\d+)$/m.exec((await env.exec('cat', [join(cg.cgroupDir, 'cpu.stat')])).stdout)![1]!);
    expect(usage).toBeLessThanOrEqual(usec * 1000n);
  });

  test('containerd SIGKILL + restart: the plugin recovers the pod from the same shim, and ExecSync still works', async () => {
    const shim = shimOf(sandboxId);
    const pids = await Promise.all(Object.values(ids).map(async (id) => infoPid(await containerStatus(id, true))));
    await env.killContainerd();
    await env.startContainerd();
    // The plugin reloads its pods and containers from containerd, which reconnects to the shim (`address`).
    const s = await poll('the sandbox after the restart', () => cri.rt('PodSandboxStatus', { podSandboxId: sandboxId }).catch((): Msg => ({})), (r: Msg) => r.status?.state === 'SANDBOX_READY');
    expect(s.status.id).toBe(sandboxId);
    for (const [i, id] of Object.values(ids).entries()) {
      const c = await containerStatus(id, true);
      expect(c.status.state).toBe('CONTAINER_RUNNING');
      expect(infoPid(c)).toBe(pids[i]);
    }
    expect(shimProcesses()).toEqual([shim]);
    const r = await cri.rt('ExecSync', { containerId: ids.writer, cmd: ['echo', 'after-restart'], timeout: 30 });
    expect(Buffer.from(r.stdout).toString()).toBe('after-restart\n');
  });

  test('ContainerStatus: running, then exited with its exit code; StopContainer\'s SIGTERM is 143', async () => {
    expect((await containerStatus(ids.runner)).status.state).toBe('CONTAINER_RUNNING');
    writeFileSync(join(data(), 'go'), '');
    const s = await poll('runner exited', () => containerStatus(ids.runner), (r) => r.status.state === 'CONTAINER_EXITED');
    expect(s.status.exitCode).toBe(3);
    expect(s.status.reason).toBe('Error');
    expect(BigInt(s.status.finishedAt)).toBeGreaterThan(BigInt(s.status.startedAt));
    const log = readFileSync(join(sandboxConfig.logDirectory, 'runner.log'), 'utf8');
    expect(log).toMatch(/ stdout F hello from writer$/m);
    expect(log).toMatch(/ stderr F runner done$/m);

    await cri.rt('StopContainer', { containerId: ids.writer, timeout: 10 });
    const w = await containerStatus(ids.writer);
    expect(w.status.state).toBe('CONTAINER_EXITED');
    expect(w.status.exitCode).toBe(143);
  });

  test('a second pod gets a shim of its own', async () => {
    const r = await cri.rt('RunPodSandbox', { config: podConfig('pod2') }, 120_000);
    made.push({ pod: 'pod2', id: r.podSandboxId });
    try {
      expect(shimOf(r.podSandboxId)).not.toBe(shimOf(sandboxId));
      expect(shimProcesses()).toHaveLength(2);
    } finally {
      await cri.rt('StopPodSandbox', { podSandboxId: r.podSandboxId });
      await cri.rt('RemovePodSandbox', { podSandboxId: r.podSandboxId });
    }
  });

  test('stop and remove everything: no shim, task, mount, cgroup or state is left', async () => {
    const shim = shimOf(sandboxId);
    const all = [sandboxId, ...Object.values(ids)];
    for (const id of Object.values(ids)) await cri.rt('RemoveContainer', { containerId: id });
    await cri.rt('StopPodSandbox', { podSandboxId: sandboxId });
    expect((await cri.rt('PodSandboxStatus', { podSandboxId: sandboxId })).status.state).toBe('SANDBOX_NOTREADY');
    await cri.rt('RemovePodSandbox', { podSandboxId: sandboxId });
    expect((await cri.rt('ListPodSandbox', {})).items).toEqual([]);
    expect((await cri.rt('ListContainers', {})).containers).toEqual([]);

    // The shim exits once its last task is deleted, and takes its socket with it.
    await poll('the shim to exit', async () => alive(shim), (a) => !a);
    expect(shimProcesses()).toEqual([]);
    const sockets = join(env.dir, 'run', 'containerd', 's');
    expect(existsSync(sockets) ? readdirSync(sockets) : []).toEqual([]);
    for (const id of all) {
      expect(existsSync(bundle(id))).toBe(false);
      expect(existsSync(join(stateRoot(), id))).toBe(false);
    }
    // The plugin's own per-pod and per-container dirs (hosts, resolv.conf, shm, fifos) went too.
    for (const base of ['root', 'state']) {
      for (const kind of ['sandboxes', 'containers']) {
        const d = join(env.dir, 'containerd', base, 'io.containerd.grpc.v1.cri', kind);
        expect(existsSync(d) ? readdirSync(d) : [], d).toEqual([]);
      }
    }
    // No rootfs, no sandbox /dev/shm.
    expect(mountsUnder(join(env.dir, 'containerd', 'state'))).toEqual([]);
    expect(mountsUnder(join(env.dir, 'containerd', 'root'))).toEqual([]);
    // Every task's cgroup is gone (the host's cgroup2 root is the engines' /sys/fs/cgroup).
    const root = cgroup2Mount()!;
    expect(made.length).toBe(4);
    for (const { pod, id } of made) expect(existsSync(join(root, cgroupOf(pod, id))), cgroupOf(pod, id)).toBe(false);
  });
});
