// A seeded fuzzing client against the shim's ttrpc server running as its own process: malformed and
// truncated frames, lying lengths, garbage protobuf, unknown services, disconnects mid-call, slow
// senders holding partial frames, and 2000 concurrent calls. After every round a well-formed call must
// still be answered promptly, the server must be alive, and its memory must stay bounded.
// Seed: TSRUNC_FUZZ_SEED (default fixed); the seed is in every failure message.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { create, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, REPO } from './harness';
import { TtrpcClient } from '../../src/shim/ttrpc/client';
import { Code } from '../../src/shim/ttrpc/errors';
import { encodeFrame, HEADER_LENGTH, MAX_MESSAGE_LENGTH } from '../../src/shim/ttrpc/frame';
import { RequestSchema } from '../../src/shim/proto/gen/ttrpc/ttrpc_pb';
import { Task, KillRequestSchema, StateRequestSchema, WaitRequestSchema } from '../../src/shim/proto';

const SEED = Number(process.env.TSRUNC_FUZZ_SEED ?? 0x5eed);
const CASES = 3000;

/** mulberry32: small, fast, seedable. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tsrunc-fuzz-'));
const sock = join(dir, 's', 'fuzz.sock');
let child: ChildProcess;
let stderr = '';

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

const req = (service: string, method: string, payload: Uint8Array, timeoutNano = 0n) =>
  toBinary(RequestSchema, create(RequestSchema, { service, method, payload, timeoutNano }));
const T = 'containerd.task.v2.Task';
const stateBytes = (id: string) => toBinary(StateRequestSchema, create(StateRequestSchema, { id }));

/** Opens a raw connection, writes `chunks` (with optional pauses), then ends or destroys it. */
function rawSession(chunks: Buffer[], opts: { destroy: boolean; waitMs: number }): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(sock);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(finish, 5000);
    s.on('error', finish);
    s.on('close', finish);
    s.on('data', () => {}); // drain answers
    s.on('connect', async () => {
      for (const c of chunks) {
        if (!s.writable) break;
        s.write(c);
      }
      if (opts.waitMs) await new Promise((r) => setTimeout(r, opts.waitMs));
      if (opts.destroy) finish();
      else s.end();
    });
  });
}

/** One fuzz case: a list of byte chunks built from valid frames, then damaged in one of several ways. */
function fuzzCase(r: ReturnType<typeof rng>): { chunks: Buffer[]; destroy: boolean; waitMs: number } {
  const valid = () => {
    const id = r.int(2) ? 2 * r.int(1000) + 1 : r.int(0x100000000);
    const kind = r.int(6);
    const payload =
      kind === 0 ? req(T, 'State', stateBytes(`c${r.int(100)}`))
      : kind === 1 ? req(T, 'Wait', toBinary(WaitRequestSchema, create(WaitRequestSchema, { id: 'w' })))
      : kind === 2 ? req(r.pick(['', 'x', T, 'containerd.task.v2.Taskx', 'a'.repeat(300)]), r.pick(['', 'State', 'Nope', 'Kill', 'ß']), r.bytes(r.int(40)))
      : kind === 3 ? req(T, 'State', r.bytes(r.int(200))) // garbage payload for a real method
      : kind === 4 ? r.bytes(r.int(300)) // garbage Request
      : req(T, 'Kill', toBinary(KillRequestSchema, create(KillRequestSchema, { id: 'k', signal: r.int(30) })), BigInt(r.int(3)) * 1_000_000n);
    return encodeFrame(id, r.pick([1, 1, 1, 2, 0, 255]), payload);
  };
  const frames = Array.from({ length: 1 + r.int(4) }, valid);
  let bytes = Buffer.concat(frames);
  switch (r.int(7)) {
    case 0: // truncated anywhere
      bytes = bytes.subarray(0, r.int(bytes.length));
      break;
    case 1: // bit flips
      for (let i = 0, n = 1 + r.int(8); i < n; i++) bytes[r.int(bytes.length)] ^= 1 << r.int(8);
      break;
    case 2: {
      // a lying length: up to 4 GiB, followed by some bytes
      const h = Buffer.alloc(HEADER_LENGTH);
      h.writeUInt32BE(r.pick([MAX_MESSAGE_LENGTH + 1, 0xffffffff, MAX_MESSAGE_LENGTH, r.int(0x100000000)]), 0);
      h.writeUInt32BE(2 * r.int(100) + 1, 4);
      h[8] = 1;
      bytes = Buffer.concat([bytes, h, r.bytes(r.int(2000))]);
      break;
    }
    case 3: // pure noise
      bytes = r.bytes(r.int(5000));
      break;
    default: // valid frames (answered), sometimes cut off by the disconnect
      break;
  }
  // Split into random chunks so headers straddle writes.
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + r.int(700);
    chunks.push(bytes.subarray(i, i + n));
    i += n;
  }
  return { chunks, destroy: r.int(2) === 0, waitMs: r.int(4) === 0 ? r.int(30) : 0 };
}

describe('ttrpc server under fuzz', () => {
  let probe: TtrpcClient;

  beforeAll(async () => {
    const out = join(dir, 'server.cjs');
    await build({
      absWorkingDir: REPO,
      entryPoints: ['test/engines/fixtures/ttrpc-fuzz-server.ts'],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'warning',
    });
    child = spawn(process.execPath, [out, sock], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`fuzz server exited ${c}: ${stderr}`)));
    });
    probe = await TtrpcClient.connect(sock);
  });

  afterAll(async () => {
    probe?.close();
    if (child?.pid && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const ctx = () => `seed ${SEED}; server stderr: ${stderr}`;

  /** A well-formed call must be answered promptly, and a fresh connection must work too. */
  async function healthy(): Promise<void> {
    expect(child.exitCode, ctx()).toBeNull();
    const t = Date.now();
    const r = await probe.call(Task.method.state, { id: 'probe' }, { timeoutMs: 5000 });
    expect(r.id, ctx()).toBe('probe');
    const fresh = await TtrpcClient.connect(sock, { timeoutMs: 5000 });
    await expect(fresh.call(Task.method.state, { id: 'missing-1' }, { timeoutMs: 5000 })).rejects.toMatchObject({ code: Code.NotFound });
    fresh.close();
    expect(Date.now() - t, ctx()).toBeLessThan(3000);
  }

  test(`seeded malformed input (${CASES} connections) never crashes or wedges the server`, { timeout: 120_000 }, async () => {
    await healthy();
    const baseline = rssKiB(child.pid!);
    const r = rng(SEED);
    const started = Date.now();
    let peak = baseline;
    for (let done = 0; done < CASES && Date.now() - started < 60_000; ) {
      const batch = Array.from({ length: 50 }, () => fuzzCase(r));
      await Promise.all(batch.map((c) => rawSession(c.chunks, c)));
      done += batch.length;
      if (done % 500 === 0) {
        await healthy();
        peak = Math.max(peak, rssKiB(child.pid!));
      }
    }
    await healthy();
    // Every fuzz connection has been released (the probe is the only one left).
    await expect.poll(async () => (await probe.call(Task.method.connect, { id: '' })).taskPid, { timeout: 10_000 }).toBe(1);
    console.info(`fuzz: seed ${SEED}, RSS baseline ${baseline} KiB, peak ${peak} KiB, ${Date.now() - started} ms`);
    // Bounded memory: each connection holds at most one 4 MiB frame, and they come and go.
    expect(peak - baseline, `${ctx()}; baseline ${baseline} KiB peak ${peak} KiB`).toBeLessThan(128 * 1024);
  });

  test('2000 concurrent calls on one connection and 2000 across 20 connections are all answered', { timeout: 120_000 }, async () => {
    const r = rng(SEED + 1);
    const many = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        i % 2
          ? probe.call(Task.method.state, { id: `c${i}` }).then((s) => s.id === `c${i}`)
          : probe.call(Task.method.kill, { id: 'k', signal: r.int(20) }).then(() => true),
      ),
    );
    expect(many.every(Boolean), ctx()).toBe(true);
    const clients = await Promise.all(Array.from({ length: 20 }, () => TtrpcClient.connect(sock)));
    const spread = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => clients[i % 20].call(Task.method.state, { id: `s${i}` }).then((s) => s.id === `s${i}`)),
    );
    expect(spread.every(Boolean), ctx()).toBe(true);
    for (const c of clients) c.close();
    await healthy();
  });

  test('2000 calls left waiting by clients that vanish are all released', { timeout: 60_000 }, async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => TtrpcClient.connect(sock)));
    const pending = Array.from({ length: 2000 }, (_, i) => clients[i % 10].call(Task.method.wait, { id: `w${i}` }).catch((e) => e.code));
    await new Promise((r) => setTimeout(r, 300));
    const rss = rssKiB(child.pid!);
    for (const c of clients) c.close();
    expect(new Set(await Promise.all(pending))).toEqual(new Set([Code.Unavailable]));
    await expect.poll(async () => (await probe.call(Task.method.connect, { id: '' })).taskPid, { timeout: 10_000 }).toBe(1);
    await healthy();
    expect(rssKiB(child.pid!) - rss, ctx()).toBeLessThan(64 * 1024);
  });

  test('5000 never-ending calls on one connection: 4096 wait, the rest are refused at once, nothing blocks', { timeout: 60_000 }, async () => {
    const c = await TtrpcClient.connect(sock);
    const codes = new Map<number, number>();
    const pending = Array.from({ length: 5000 }, (_, i) =>
      c.call(Task.method.wait, { id: `w${i}` }).catch((e) => codes.set(e.code, (codes.get(e.code) ?? 0) + 1)),
    );
    await expect.poll(() => codes.get(Code.ResourceExhausted) ?? 0, { timeout: 20_000 }).toBe(5000 - 4096);
    try {
      // No head-of-line blocking behind the waiting calls (long polls, not a flood to pause on): one more
      // call on that connection is refused at once, and other connections are served as usual.
      await expect(c.call(Task.method.state, { id: 'x' }, { timeoutMs: 5000 })).rejects.toMatchObject({ code: Code.ResourceExhausted });
      await healthy();
    } finally {
      c.close();
    }
    await Promise.all(pending);
    expect(codes.get(Code.Unavailable)).toBe(4096);
    await expect.poll(async () => (await probe.call(Task.method.connect, { id: '' })).taskPid, { timeout: 10_000 }).toBe(1);
    await healthy();
  });

  test('slow senders holding partial 4 MiB frames are capped by the global buffer budget', { timeout: 60_000 }, async () => {
    const baseline = rssKiB(child.pid!);
    // 40 connections x ~3.9 MiB of an unfinished frame = 156 MiB if all were kept; the budget is 64 MiB.
    const sockets = await Promise.all(
      Array.from({ length: 40 }, () => new Promise<import('node:net').Socket>((resolve) => {
        const s = connect(sock, () => resolve(s));
        s.on('error', () => {});
      })),
    );
    const closed = sockets.map((s) => new Promise<boolean>((res) => s.once('close', () => res(true))));
    for (const s of sockets) {
      const h = Buffer.alloc(HEADER_LENGTH);
      h.writeUInt32BE(MAX_MESSAGE_LENGTH, 0);
      h.writeUInt32BE(1, 4);
      h[8] = 1;
      s.write(h);
      s.write(Buffer.alloc(MAX_MESSAGE_LENGTH - 100_000, 0x61));
    }
    // Some connections are refused their bytes and closed; the server keeps serving.
    await expect.poll(async () => (await Promise.all(closed.map((c) => Promise.race([c, Promise.resolve(false)])))).filter(Boolean).length, { timeout: 20_000 }).toBeGreaterThan(0);
    await healthy();
    const held = rssKiB(child.pid!) - baseline;
    console.info(`slow senders: ${(await Promise.all(closed.map((c) => Promise.race([c, Promise.resolve(false)])))).filter(Boolean).length}/40 closed, RSS +${held} KiB`);
    for (const s of sockets) s.destroy();
    expect(held, `${ctx()}; held ${held} KiB`).toBeLessThan(128 * 1024);
    await expect.poll(async () => (await probe.call(Task.method.connect, { id: '' })).taskPid, { timeout: 10_000 }).toBe(1);
  });
});
