import fs from 'node:fs';
import { native } from '../native';
import { create, type CreateOptions } from './create';
import { deleteContainer } from './delete';
import { signalInit } from './kill';
import { start } from './start';
import { queueSignals, waitExitStatus } from './process-io';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
  noSubreaper?: boolean;
  /** Told about each failed poststop hook when the foreground run deletes the container. */
  warn?: (message: string) => void;
}

/**
 * `run`: create and start; in the foreground, wait for the init and delete the container.
 * Returns the exit status a shell would report (128+N for signal N), or 0 when detached.
 */
export async function run(opts: RunOptions): Promise<number> {
  // As subreaper the init (a grandchild: the first helper exits) becomes our child to wait for. With
  // --no-subreaper we are one only until then: the init stays our child, later orphans go elsewhere.
  if (!opts.detach) native().setChildSubreaper();
  const signals = opts.detach ? undefined : queueSignals();
  let record;
  try {
    record = await create(opts);
  } catch (err) {
    signals?.stop();
    throw err;
  }
  if (!opts.detach && opts.noSubreaper) native().setChildSubreaper(false);
  let pidfd = -1;
  try {
    if (!opts.detach) pidfd = native().pidfdOpen(record.pid);
    await start(opts.root, opts.id);
  } catch (err) {
    signals?.stop();
    if (pidfd >= 0) fs.closeSync(pidfd);
    await deleteContainer(opts.root, opts.id, { force: true });
    throw err;
  }
  if (!signals) return 0;

  const running = record;
  signals.to((signo) => signalInit(running, signo));
  try {
    return await waitExitStatus(pidfd);
  } finally {
    signals.stop();
    fs.closeSync(pidfd);
    if (!opts.keep) await deleteContainer(opts.root, opts.id, { force: true, warn: opts.warn });
  }
}
