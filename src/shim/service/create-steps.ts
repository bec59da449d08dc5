// The shim's own part of Create, run inside the runtime's write-ahead window (create's `prepare`): the
// rootfs mount and the init's stdio (a binary:// logger is a process of ours on the host). Each is in the
// container's journal before it is made, so a shim killed at any instant of Create leaves a record from
// which its `delete` (or `tsrunc delete --force` on the state root) removes exactly what the shim made.
// (Fifos are containerd's, a file:// log is the user's output, and the pty master comes over a
// socketpair: none of them is the shim's to undo.)
import type { Prepared } from '../../runtime/ops/create';
import { mountIntent, undoRecorded } from '../../runtime/ops/host-mounts';
import { RuntimeError } from '../../runtime/errors';
import { crashPoint, type Journal } from '../../runtime/state/journal';
import { ProcessIO } from '../io/stdio';
import { checkRootfsMounts, mountRootfs, type RootfsMount } from '../mount';
import type { ShimProcess } from '../process/process';

export interface CreateSteps {
  /** <bundle>/rootfs (it exists: loading the bundle needs it). */
  rootfs: string;
  /** CreateTaskRequest.rootfs. */
  mounts: RootfsMount[];
  /** The init: its `stdio` request in, its `io` out. */
  init: ShimProcess;
  id: string;
  namespace: string;
}

export async function prepareCreate(journal: Journal, o: CreateSteps): Promise<Prepared> {
  let mount: ReturnType<typeof mountIntent> | undefined;
  const undo = async (): Promise<void> => {
    o.init.io?.close();
    const left = mount ? undoRecorded({ rootfs: mount.target, before: mount.before }) : [];
    if (left.length) throw new RuntimeError(`rootfs mounts not removed: ${left.join('; ')}`);
  };
  try {
    if (o.mounts.length) {
      checkRootfsMounts(o.mounts);
      mount = mountIntent(o.rootfs);
      journal.append(mount);
      await mountRootfs(o.mounts, o.rootfs);
      crashPoint('shim-rootfs');
    }
    // The logger outlives Create (it ends with its input), so only an unfinished Create kills it.
    o.init.io = await ProcessIO.open(o.init.stdio, { id: o.id, namespace: o.namespace, onProcess: (pid) => journal.process(pid, 'logger', true) });
    crashPoint('shim-io');
    return { stdio: o.init.io.fds, undo };
  } catch (err) {
    await undo().catch(() => undefined);
    throw err;
  }
}
