/*
 * Task events to containerd, in order. containerd 1.6 gives shims TTRPC_ADDRESS (its ttrpc socket), where
 * containerd.services.events.ttrpc.v1.Events/Forward takes an Envelope{timestamp, namespace, topic, event};
 * the `-publish-binary` fallback is `containerd --address A publish --topic T --namespace N` with the
 * event's Any on stdin (containerd's publish command).
 *
 *   const pub = new Publisher({ ttrpcAddress, namespace, publishBinary, containerdAddress, log });
 *   pub.publish(TOPICS.exit, TaskExitSchema, { containerId, id, pid, exitStatus, exitedAt });
 *   await pub.close(5000);
 *
 * One queue, one event in flight: containerd sees events in publish order (TaskExit before TaskDelete).
 * A delivery failure (containerd restarting, socket gone) is retried with backoff, the head of the queue
 * first, for as long as the publisher lives; an event containerd rejects with a status (a bad event, not
 * a bad connection) is dropped so it cannot block the others. The queue is bounded: beyond maxQueue the
 * oldest events are dropped, with a log line.
 */
import { spawn } from 'node:child_process';
import { create, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampNow, type Any } from '@bufbuild/protobuf/wkt';
import { encodeAny, packAny } from '../proto/any';
import { Events } from '../proto/gen/containerd/services/events/ttrpc/v1/events_pb';
import { TtrpcClient } from '../ttrpc/client';
import { Code, TtrpcError } from '../ttrpc/errors';

export const TOPICS = {
  create: '/tasks/create',
  start: '/tasks/start',
  exit: '/tasks/exit',
  delete: '/tasks/delete',
  execAdded: '/tasks/exec-added',
  execStarted: '/tasks/exec-started',
  paused: '/tasks/paused',
  resumed: '/tasks/resumed',
  oom: '/tasks/oom',
  checkpointed: '/tasks/checkpointed',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export interface PublisherOptions {
  /** containerd's ttrpc socket (env TTRPC_ADDRESS); unset means: publish binary only. */
  ttrpcAddress?: string;
  /** The default namespace of events (the shim's -namespace). */
  namespace: string;
  /** `-publish-binary` (containerd's own binary) and `-address` (its gRPC socket) for the fallback. */
  publishBinary?: string;
  containerdAddress?: string;
  log?: (message: string) => void;
  /** Events kept while containerd is unreachable. */
  maxQueue?: number;
  /** Per delivery attempt. */
  timeoutMs?: number;
  /** Backoff between retries: starts at minRetryMs, doubles up to maxRetryMs. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

interface Item {
  topic: string;
  namespace: string;
  /** Packed on first delivery (after the reply to the call that published it, see publish). */
  event: Any | (() => Any);
  timestamp: ReturnType<typeof timestampNow>;
  attempts: number;
}

export class Publisher {
  private readonly queue: Item[] = [];
  private client: TtrpcClient | null = null;
  private running = false;
  private closing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  /** A run is scheduled for after the current turn of the loop. */
  private scheduled = false;
  private readonly o: Required<Omit<PublisherOptions, 'ttrpcAddress' | 'publishBinary' | 'containerdAddress' | 'log'>> &
    Pick<PublisherOptions, 'ttrpcAddress' | 'publishBinary' | 'containerdAddress' | 'log'>;
  /** Events delivered, for tests and diagnostics. */
  delivered = 0;
  dropped = 0;

  constructor(options: PublisherOptions) {
    this.o = { maxQueue: 4096, timeoutMs: 5000, minRetryMs: 100, maxRetryMs: 2000, ...options };
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues an event; never throws for delivery problems, never blocks. */
  publish<D extends DescMessage>(topic: Topic | string, schema: D, event: MessageInitShape<D>, namespace = this.o.namespace): void {
    if (this.closing) {
      this.o.log?.(`events: publisher closed, dropping ${topic}`);
      this.dropped++;
      return;
    }
    this.queue.push({ topic, namespace, event: () => packAny(schema, event), timestamp: timestampNow(), attempts: 0 });
    while (this.queue.length > this.o.maxQueue) {
      const old = this.queue.shift()!;
      this.dropped++;
      this.o.log?.(`events: queue full, dropping ${old.topic}`);
    }
    // Encoding and sending wait for the end of this turn: a handler that publishes (Start, Exec, Delete)
    // has its reply written to containerd first, which is what containerd is waiting on. Order is kept.
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  /** Resolves when the queue is empty (or after timeoutMs); true if everything was delivered. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve(true);
    if (!this.running) void this.run();
    // Retry now rather than after the backoff: whoever flushes is about to exit.
    this.wakeRetry?.();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Flushes for at most timeoutMs, then stops retrying and closes the connection. */
  async close(timeoutMs = 0): Promise<boolean> {
    const ok = timeoutMs > 0 ? await this.flush(timeoutMs) : this.queue.length === 0;
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    this.client?.close();
    this.client = null;
    if (!ok) this.dropped += this.queue.length;
    this.queue.length = 0;
    return ok;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closing) {
        const item = this.queue[0];
        if (typeof item.event === 'function') {
          try {
            item.event = item.event();
          } catch (e) {
            this.o.log?.(`events: cannot encode ${item.topic}: ${(e as Error).message}`);
            this.queue.shift();
            this.dropped++;
            continue;
          }
        }
        const err = await this.deliver(item);
        if (this.queue[0] !== item) continue; // dropped while in flight (queue overflow)
        if (err === null) {
          this.queue.shift();
          this.delivered++;
          continue;
        }
        item.attempts++;
        if (err instanceof TtrpcError && err.code !== Code.Unavailable && err.code !== Code.DeadlineExceeded) {
          // containerd answered and refused this event: retrying cannot help.
          this.o.log?.(`events: containerd rejected ${item.topic}: ${err.message}`);
          this.queue.shift();
          this.dropped++;
          continue;
        }
        if (item.attempts === 1 || item.attempts % 50 === 0) this.o.log?.(`events: ${item.topic} not delivered (attempt ${item.attempts}): ${err.message}`);
        await this.backoff(Math.min(this.o.maxRetryMs, this.o.minRetryMs * 2 ** Math.min(item.attempts - 1, 16)));
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0 || this.closing) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.wakeRetry = null;
        resolve();
      };
      this.wakeRetry = wake;
      this.retryTimer = setTimeout(wake, ms);
    });
  }

  /** One attempt: ttrpc Forward first, then the publish binary. null on success. */
  private async deliver(item: Item): Promise<Error | null> {
    let ttrpcErr: Error | null = null;
    if (this.o.ttrpcAddress) {
      ttrpcErr = await this.forward(item);
      if (ttrpcErr === null) return null;
      // A status answer means containerd is there and said no: the binary would say no too.
      if (ttrpcErr instanceof TtrpcError && ttrpcErr.code !== Code.Unavailable && ttrpcErr.code !== Code.DeadlineExceeded) return ttrpcErr;
    }
    if (this.o.publishBinary && this.o.containerdAddress) {
      const binErr = await this.publishWithBinary(item);
      if (binErr === null) return null;
      return ttrpcErr ?? binErr;
    }
    return ttrpcErr ?? new Error('no ttrpc address and no publish binary');
  }

  private async forward(item: Item): Promise<Error | null> {
    try {
      if (!this.client || this.client.closed) {
        this.client = await TtrpcClient.connect(this.o.ttrpcAddress!, { timeoutMs: this.o.timeoutMs });
      }
      await this.client.call(
        Events.method.forward,
        { envelope: { timestamp: item.timestamp, namespace: item.namespace, topic: item.topic, event: item.event as Any } },
        { timeoutMs: this.o.timeoutMs, namespace: item.namespace },
      );
      return null;
    } catch (err) {
      if (this.client?.closed) this.client = null;
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private publishWithBinary(item: Item): Promise<Error | null> {
    return new Promise((resolve) => {
      const args = ['--address', this.o.containerdAddress!, 'publish', '--topic', item.topic, '--namespace', item.namespace];
      let stderr = '';
      let settled = false;
      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(err);
      };
      const child = spawn(this.o.publishBinary!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(new Error(`${this.o.publishBinary} publish: timed out`));
      }, this.o.timeoutMs);
      child.on('error', (err) => finish(err));
      child.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 4096) stderr += d.toString();
      });
      child.stdin!.on('error', () => {}); // EPIPE if it exits early; the exit status tells
      child.stdin!.end(encodeAny(item.event as Any));
      child.on('close', (code, signal) =>
        finish(code === 0 ? null : new Error(`${this.o.publishBinary} publish: ${signal ?? `exit ${code}`}: ${stderr.trim()}`)),
      );
    });
  }
}

/** An Envelope as Forward sends it (for tests and for anyone forwarding by hand). */
export function envelope<D extends DescMessage>(namespace: string, topic: string, schema: D, event: MessageInitShape<D>) {
  return create(Events.method.forward.input, {
    envelope: { timestamp: timestampNow(), namespace, topic, event: packAny(schema, event) },
  });
}
