// What the shim knows about one container: its init, its exec'd processes, and where its state is.
import type { ShimProcess } from './process';

export class Container {
  /** Exec'd processes by exec id, from Exec until their Delete. */
  readonly execs = new Map<string, ShimProcess>();
  paused = false;
  rootfsMounted = false;
  /** The container's cgroup, from the record Create made (Start's OOM watch needs no state.json read). */
  cgroupDir = '';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly bundle: string,
    /** The tsrunc state root (`<root>/<namespace>`) the container lives in. */
    readonly stateRoot: string,
    readonly init: ShimProcess,
  ) {}

  /** The process `execId` names ('' = the init), or undefined. */
  process(execId: string): ShimProcess | undefined {
    return execId ? this.execs.get(execId) : this.init;
  }

  /**
   * Runs `fn` after every earlier serialised call on this container has finished, so that one
   * container's calls take its state lock in the order they came (the lock waits off the loop).
   */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
