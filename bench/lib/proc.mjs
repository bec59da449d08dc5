// Running commands with timing, peak RSS (GNU time) and /proc inspection.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** The environment for children: NODE_EXTRA_CA_CERTS makes every node start 40 ms slower. */
export function benchEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

let errSeq = 0;
/**
 * spawnSync with stdout on /dev/null and stderr in an unlinked temp file: a created container inherits
 * the runtime's stdio, so with a pipe spawnSync would wait until the container exits.
 */
export function spawnCapture(file, args) {
  const path = join(tmpdir(), `tsrunc-bench-err-${process.pid}-${++errSeq}`);
  const fd = openSync(path, 'w+');
  unlinkSync(path);
  try {
    const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', fd], env: benchEnv(), timeout: 60_000, killSignal: 'SIGKILL' });
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 65536));
    readSync(fd, buf, 0, buf.length, 0);
    return { status: r.status, signal: r.signal, stderr: r.error ? r.error.message : buf.toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

/** Runs argv to completion; returns ms. */
export function timed(argv, { check = true } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnCapture(argv[0], argv.slice(1));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (check && r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return ms;
}

/** Runs argv under `/usr/bin/time`; returns the peak RSS in KiB. */
export function peakRssKiB(argv, outFile) {
  const r = spawnCapture(GNU_TIME, ['-f', '%M', '-o', outFile, ...argv]);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  const kib = Number(readFileSync(outFile, 'utf8').trim().split('\n').pop());
  rmSync(outFile, { force: true });
  return kib;
}

export function readPidFile(path) {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  rmSync(path, { force: true });
  return pid > 0 ? pid : undefined;
}

/** VmRSS of a live process in KiB. */
export function vmRssKiB(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** True when the process is gone or a zombie (whoever reaps it, it has stopped). */
export function isDead(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** Busy-polls (0.2 ms steps) until pid is dead; returns ms waited. */
export function waitDead(pid, timeoutMs = 10_000) {
  const t0 = process.hrtime.bigint();
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (isDead(pid)) return Number(process.hrtime.bigint() - t0) / 1e6;
    if (Number(process.hrtime.bigint() - t0) / 1e6 > timeoutMs) throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
    Atomics.wait(sab, 0, 0, 0.2);
  }
}
