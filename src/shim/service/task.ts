// containerd.task.v2.Task: every method, on the runtime library in-process. One instance serves all the
// containers of this shim. Events go out in containerd's order: TaskCreate after Create, TaskStart (or
// TaskExecStarted) before the process's TaskExit, TaskExit before TaskDelete.
import fs from 'node:fs';
import path from 'node:path';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { constants } from 'node:os';
import { create as createContainer } from '../../runtime/ops/create';
import { start as startContainer } from '../../runtime/ops/start';
import { exec as execProcess } from '../../runtime/ops/exec';
import { deleteContainer } from '../../runtime/ops/delete';
import { pause, resume } from '../../runtime/ops/pause';
import { update } from '../../runtime/ops/update';
import { recordCgroup } from '../../runtime/ops/container-cgroup';
import { cgroupMembers } from '../../runtime/ops/kill';
import { validateId } from '../../runtime/state/id';
import { StateStore } from '../../runtime/state/store';
import type { Process } from '../../runtime/config/types';
import type { LinuxResources } from '../../runtime/cgroups/types';
import {
  LINUX_RESOURCES_TYPE_URL,
  PROCESS_SPEC_TYPE_URL,
  ProcessDetailsSchema,
  Status,
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskOOMSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
  Task,
  packAny,
  timestampFromDate,
  unpackJsonAny,
  type CreateTaskRequest,
  type ExecProcessRequest,
  type UpdateTaskRequest,
} from '../proto';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unavailable, Unimplemented } from '../ttrpc/errors';
import type { CallContext, ServiceImpl } from '../ttrpc/server';
import { ProcessIO } from '../io/stdio';
import { unmountRootfs } from '../mount';
import { Container } from '../process/container';
import { ShimProcess } from '../process/process';
import { mapped } from './errors';
import { shimConfig, stateRoot, type ShimConfig } from './options';
import { OomWatch } from './oom';
import { writeBundleInfo } from './bundle-info';
import { metricsAny } from './metrics';
import { prepareCreate } from './create-steps';
import { RESERVE_KEY } from './reserve';

/** How long a `start` that gave containerd our address keeps us from shutting down before its Create. */
const RESERVE_MS = 30_000;

export interface EventSink {
  publish<D extends DescMessage>(topic: string, schema: D, event: MessageInitShape<D>): void;
}

export interface ServiceOptions {
  namespace: string;
  events: EventSink;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
  /** A container was deleted (its bundle is about to go); `others` are the bundles still served. */
  onDeleted?: (bundle: string, others: string[]) => void;
  /** Shutdown with no container left: the shim goes. */
  onShutdown: () => void;
  /** Config from `start` (the options containerd sent then); a Create's own options win. */
  config?: ShimConfig;
}

export class TaskService {
  readonly containers = new Map<string, Container>();
  /** Ids whose Create is in progress. */
  private creating = new Set<string>();
  private ooms = new Map<string, OomWatch>();
  /** Containers a `start` promised containerd we serve (reserve.ts), until their Create. */
  private reserved = new Map<string, NodeJS.Timeout>();
  /** Shutdown decided: no reservation or Create is taken any more. */
  private stopping = false;

  constructor(private readonly o: ServiceOptions) {}

  private get(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new NotFound(`container ${JSON.stringify(id)} not created`);
    return c;
  }

  private proc(c: Container, execId: string): ShimProcess {
    const p = c.process(execId);
    if (!p) throw new NotFound(`process ${JSON.stringify(execId)} does not exist in container ${c.id}`);
    return p;
  }

  async create(r: CreateTaskRequest): Promise<{ pid: number }> {
    validateId(r.id);
    if (r.checkpoint || r.parentCheckpoint) throw new Unimplemented('checkpoint/restore is not supported by tsrunc yet');
    if (!path.isAbsolute(r.bundle) || r.bundle.split('/').includes('..')) throw new InvalidArgument(`bundle ${JSON.stringify(r.bundle)} is not an absolute clean path`);
    if (this.containers.has(r.id) || this.creating.has(r.id)) throw new AlreadyExists(`container ${r.id} already exists`);
    if (this.stopping) throw new Unavailable('the shim is shutting down');
    this.creating.add(r.id);
    clearTimeout(this.reserved.get(r.id));
    this.reserved.delete(r.id);
    const cfg = r.options?.typeUrl ? shimConfig(r.options) : (this.o.config ?? shimConfig(undefined));
    const root = stateRoot(cfg, this.o.namespace);
    const rootfs = path.join(r.bundle, 'rootfs');
    const init = new ShimProcess('');
    init.stdio = { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal };
    const mounts = r.rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options }));
    const mounted = mounts.length > 0;
    try {
      // Write-ahead: `delete` (containerd's cleanup when it cannot reach us) finds the state root here,
      // and in it the container's journal, which lists the rest before it is made (create-steps.ts).
      writeBundleInfo(r.bundle, { root, rootfsMounted: false }, true);
      if (mounted) fs.mkdirSync(rootfs, { recursive: true, mode: 0o711 });
      const record = await mapped(() =>
        createContainer({
          root,
          id: r.id,
          bundle: r.bundle,
          console: r.terminal ? { onMaster: (fd) => init.io!.attachMaster(fd) } : undefined,
          prepare: (journal) => prepareCreate(journal, { rootfs, mounts, init, id: r.id, namespace: this.o.namespace }),
        }),
      );
      const io = init.io!;
      io.closeAfterStart();
      writeBundleInfo(r.bundle, { root, rootfsMounted: mounted, pid: record.pid });
      const c = new Container(r.id, r.bundle, root, init);
      c.rootfsMounted = mounted;
      c.cgroupDir = record.cgroupDir;
      this.containers.set(r.id, c);
      init.watch(record.pid, (p) => this.exited(c, p));
      this.o.events.publish('/tasks/create', TaskCreateSchema, {
        containerId: r.id,
        bundle: r.bundle,
        rootfs: r.rootfs,
        io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal },
        checkpoint: r.checkpoint,
        pid: record.pid,
      });
      this.o.log('info', `created ${r.id} (pid ${record.pid})`);
      return { pid: record.pid };
    } catch (err) {
      // A failed create undid the shim's steps with its own.
      init.io?.close();
      throw err;
    } finally {
      this.creating.delete(r.id);
    }
  }

  async start(r: { id: string; execId: string }): Promise<{ pid: number }> {
    const c = this.get(r.id);
    const p = this.proc(c, r.execId);
    if (p.state !== 'created') throw new FailedPrecondition(`process ${r.execId || r.id} has already been started`);
    let release!: () => void;
    p.starting = new Promise((resolve) => (release = resolve));
    try {
      if (!r.execId) {
        await c.serial(() => mapped(() => startContainer(c.stateRoot, c.id)));
        if (p.state === 'created') p.state = 'running';
        this.watchOom(c);
        this.o.events.publish('/tasks/start', TaskStartSchema, { containerId: c.id, pid: p.pid });
      } else {
        await this.startExec(c, p);
        this.o.events.publish('/tasks/exec-started', TaskExecStartedSchema, { containerId: c.id, execId: r.execId, pid: p.pid });
      }
      return { pid: p.pid };
    } finally {
      release();
    }
  }

  private async startExec(c: Container, p: ShimProcess): Promise<void> {
    if (c.init.exit) throw new FailedPrecondition(`container ${c.id} is not running`);
    const io = p.io!;
    let pid = 0;
    try {
      await mapped(() =>
        execProcess({
          root: c.stateRoot,
          id: c.id,
          process: p.spec as Process,
          detach: true,
          onPid: (n) => (pid = n),
          stdio: io.fds,
          console: p.stdio.terminal ? { onMaster: (fd) => io.attachMaster(fd) } : undefined,
        }),
      );
      io.closeAfterStart();
      p.state = 'running';
      // The exec'd process is our child (subreaper): a pidfd works even if it has exited already.
      p.watch(pid, (q) => this.exited(c, q));
    } catch (err) {
      p.fail();
      throw err;
    }
  }

  /** A process was reaped: TaskExit, after its start event. */
  private async exited(c: Container, p: ShimProcess): Promise<void> {
    if (p.starting) await p.starting;
    const exit = p.exit!;
    // An exec's exit is a debug line: the info line's synchronous write to containerd's log fifo cost
    // ~0.3 ms on each exec's path.
    this.o.log(p.execId ? 'debug' : 'info', `${c.id}${p.execId ? `/${p.execId}` : ''} exited with ${exit.status}`);
    if (!p.execId) {
      // The container's other processes do not outlive its init (runc's shim: kill all on init exit).
      for (const e of c.execs.values()) if (!e.exit) e.signal(constants.signals.SIGKILL);
    }
    this.o.events.publish('/tasks/exit', TaskExitSchema, {
      containerId: c.id,
      id: p.execId || c.id,
      pid: p.pid,
      exitStatus: exit.status,
      exitedAt: timestampFromDate(exit.at),
    });
    await p.io?.drain();
  }

  async delete(r: { id: string; execId: string }) {
    const c = this.get(r.id);
    const p = this.proc(c, r.execId);
    if (r.execId) {
      if (p.state === 'running') throw new FailedPrecondition(`cannot delete exec ${r.execId}: it is running`);
      if (p.state === 'stopped') await p.exited;
      p.io?.close();
      c.execs.delete(r.execId);
      return this.exitOf(p);
    }
    return c.serial(async () => {
      if (!this.containers.has(c.id)) throw new NotFound(`container ${c.id} not created`);
      if (p.state === 'running') throw new FailedPrecondition(`cannot delete task ${c.id}: it is running`);
      // Created and never started: the init waits for start; it goes now.
      if (!p.exit) p.signal(constants.signals.SIGKILL);
      await p.exited;
      for (const e of c.execs.values()) {
        e.signal(constants.signals.SIGKILL);
        if (e.pid) await e.exited;
        e.io?.close();
      }
      await mapped(() => deleteContainer(c.stateRoot, c.id, { force: true, warn: (w) => this.o.log('warn', w) })).catch((err) => {
        // Already gone (`tsrunc delete --force` from outside) is what we wanted.
        if (!(err instanceof NotFound)) throw err;
      });
      p.io?.close();
      this.ooms.get(c.id)?.close();
      this.ooms.delete(c.id);
      if (c.rootfsMounted) await unmountRootfs(path.join(c.bundle, 'rootfs'));
      this.containers.delete(c.id);
      const res = this.exitOf(p);
      this.o.events.publish('/tasks/delete', TaskDeleteSchema, { containerId: c.id, pid: res.pid, exitStatus: res.exitStatus, exitedAt: res.exitedAt });
      this.o.log('info', `deleted ${c.id}`);
      this.o.onDeleted?.(c.bundle, [...this.containers.values()].map((x) => x.bundle));
      return res;
    });
  }

  private exitOf(p: ShimProcess) {
    return { pid: p.pid, exitStatus: p.exit?.status ?? 0, exitedAt: p.exit ? timestampFromDate(p.exit.at) : undefined };
  }

  async exec(r: ExecProcessRequest) {
    const c = this.get(r.id);
    validateId(r.execId);
    if (c.execs.has(r.execId)) throw new AlreadyExists(`exec ${r.execId} already exists in container ${c.id}`);
    if (c.init.exit) throw new FailedPrecondition(`container ${c.id} is not running`);
    const spec = unpackJsonAny(r.spec, PROCESS_SPEC_TYPE_URL) as Process | undefined;
    if (!spec?.args?.length) throw new InvalidArgument('spec: an OCI process with args is required');
    const p = new ShimProcess(r.execId);
    p.spec = { ...spec, terminal: r.terminal };
    p.stdio = { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal };
    c.execs.set(r.execId, p);
    try {
      p.io = await ProcessIO.open(p.stdio, { id: c.id, namespace: this.o.namespace });
    } catch (err) {
      c.execs.delete(r.execId);
      throw err;
    }
    this.o.events.publish('/tasks/exec-added', TaskExecAddedSchema, { containerId: c.id, execId: r.execId });
    return {};
  }

  state(r: { id: string; execId: string }) {
    const c = this.get(r.id);
    const p = this.proc(c, r.execId);
    const status = p.exit
      ? Status.STOPPED
      : p.state === 'created'
        ? Status.CREATED
        : c.paused
          ? Status.PAUSED
          : Status.RUNNING;
    return {
      id: p.execId || c.id,
      bundle: c.bundle,
      pid: p.pid,
      status,
      ...p.stdio,
      exitStatus: p.exit?.status ?? 0,
      exitedAt: p.exit ? timestampFromDate(p.exit.at) : undefined,
      execId: p.execId,
    };
  }

  async kill(r: { id: string; execId: string; signal: number; all: boolean }) {
    const c = this.get(r.id);
    const p = this.proc(c, r.execId);
    if (r.signal < 1 || r.signal > 64) throw new InvalidArgument(`invalid signal ${r.signal}`);
    if (r.all && !r.execId && !p.exit) {
      // Every process of the container, found through its cgroup.
      const record = new StateStore(c.stateRoot).read(c.id);
      const cg = recordCgroup(record);
      for (const pid of cg ? cgroupMembers(record, cg) : []) {
        try {
          process.kill(pid, r.signal);
        } catch {
          // exited meanwhile
        }
      }
      return {};
    }
    if (p.state === 'created' && r.execId) throw new FailedPrecondition(`exec ${r.execId} has not been started`);
    if (!p.signal(r.signal)) throw new NotFound('process already finished');
    return {};
  }

  async pids(r: { id: string }) {
    const c = this.get(r.id);
    if (c.init.exit) return { processes: [] };
    const cg = recordCgroup(new StateStore(c.stateRoot).read(c.id));
    const byPid = new Map([...c.execs.values()].filter((e) => e.pid).map((e) => [e.pid, e.execId]));
    return {
      processes: (cg?.pids() ?? []).map((pid) => ({
        pid,
        info: byPid.has(pid) ? packAny(ProcessDetailsSchema, { execId: byPid.get(pid)! }) : undefined,
      })),
    };
  }

  async pause(r: { id: string }) {
    const c = this.get(r.id);
    await c.serial(() => mapped(() => pause(c.stateRoot, c.id)));
    c.paused = true;
    this.o.events.publish('/tasks/paused', TaskPausedSchema, { containerId: c.id });
    return {};
  }

  async resume(r: { id: string }) {
    const c = this.get(r.id);
    await c.serial(() => mapped(() => resume(c.stateRoot, c.id)));
    c.paused = false;
    this.o.events.publish('/tasks/resumed', TaskResumedSchema, { containerId: c.id });
    return {};
  }

  resizePty(r: { id: string; execId: string; width: number; height: number }) {
    const p = this.proc(this.get(r.id), r.execId);
    if (!p.io || !p.stdio.terminal) throw new FailedPrecondition('the process has no terminal');
    p.io.resize(r.height, r.width);
    return {};
  }

  closeIO(r: { id: string; execId: string; stdin: boolean }) {
    const p = this.proc(this.get(r.id), r.execId);
    if (r.stdin) p.io?.closeStdin();
    return {};
  }

  async update(r: UpdateTaskRequest) {
    const c = this.get(r.id);
    const resources = unpackJsonAny(r.resources, LINUX_RESOURCES_TYPE_URL) as LinuxResources | undefined;
    if (!resources) throw new InvalidArgument(`resources: a ${LINUX_RESOURCES_TYPE_URL} is required`);
    await c.serial(() => mapped(() => update(c.stateRoot, c.id, resources)));
    return {};
  }

  async wait(r: { id: string; execId: string }) {
    const p = this.proc(this.get(r.id), r.execId);
    const exit = await p.exited;
    return { exitStatus: exit.status, exitedAt: timestampFromDate(exit.at) };
  }

  stats(r: { id: string }) {
    const c = this.get(r.id);
    const record = new StateStore(c.stateRoot).read(c.id);
    if (!record.cgroupDir) throw new NotFound(`container ${c.id} has no cgroup`);
    return { stats: metricsAny(record.cgroupDir) };
  }

  connect(r: { id: string }, ctx?: CallContext) {
    if (ctx?.metadata.has(RESERVE_KEY)) this.reserve(r.id);
    return { shimPid: process.pid, taskPid: this.containers.get(r.id)?.init.pid ?? 0, version: '2' };
  }

  /**
   * The decision is made here, on the loop, as reservations are: one taken before it keeps us serving
   * (the next Shutdown after its container's Delete, or its expiry, decides again); one asked after it
   * is refused, and that `start` makes a new shim.
   */
  shutdown() {
    if (this.stopping || this.containers.size || this.creating.size || this.reserved.size) return {};
    this.stopping = true;
    setImmediate(() => this.o.onShutdown());
    return {};
  }

  /** A `start` is handing containerd our address for container `id` (reserve.ts). */
  private reserve(id: string): void {
    if (this.stopping) throw new Unavailable('the shim is shutting down');
    validateId(id);
    if (this.containers.has(id) || this.creating.has(id)) return;
    clearTimeout(this.reserved.get(id));
    this.reserved.set(
      id,
      setTimeout(() => {
        // containerd never sent the Create (it died, or gave up): nothing holds us any more.
        this.reserved.delete(id);
        this.shutdown();
      }, RESERVE_MS),
    );
  }

  checkpoint(): never {
    throw new Unimplemented('checkpoint is not supported by tsrunc yet (no CRIU support)');
  }

  private watchOom(c: Container): void {
    try {
      const cgroupDir = c.cgroupDir || new StateStore(c.stateRoot).read(c.id).cgroupDir;
      if (!cgroupDir) return;
      const w = OomWatch.start(cgroupDir, () => this.o.events.publish('/tasks/oom', TaskOOMSchema, { containerId: c.id }));
      if (w) this.ooms.set(c.id, w);
    } catch (err) {
      this.o.log('warn', `oom watch for ${c.id}: ${(err as Error).message}`);
    }
  }

  /** The handlers for the ttrpc server. */
  handlers(): ServiceImpl<typeof Task> {
    return {
      state: (r) => this.state(r),
      create: (r) => this.create(r),
      start: (r) => this.start(r),
      delete: (r) => this.delete(r),
      pids: (r) => this.pids(r),
      pause: (r) => this.pause(r),
      resume: (r) => this.resume(r),
      checkpoint: () => this.checkpoint(),
      kill: (r) => this.kill(r),
      exec: (r) => this.exec(r),
      resizePty: (r) => this.resizePty(r),
      closeIO: (r) => this.closeIO(r),
      update: (r) => this.update(r),
      wait: (r) => this.wait(r),
      stats: (r) => this.stats(r),
      connect: (r, ctx) => this.connect(r, ctx),
      shutdown: () => this.shutdown(),
    } as ServiceImpl<typeof Task>;
  }
}
