// Host side of a suite that runs inside the qemu guest (test/vm/run-*-suite.sh): run the script with vitest's
// JSON reporter next to the default one (the project dir is shared with the guest) and explain the outcome.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { expect } from 'vitest';
import { childEnv, REPO } from '../helpers/env';

export interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages?: string[] }[] }[];
}

export interface SuiteRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  report?: JsonReport;
  ms: number;
}

export function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Fails with what to install or build when the VM suite cannot run at all. */
export function requireVmTools(): void {
  if (!onPath('qemu-system-x86_64'))
    throw new Error('qemu-system-x86_64 is not installed: install qemu-system-x86 busybox-static cpio kmod xz-utils (see test/vm/README.md).');
  for (const f of ['dist/tsrunc.cjs', 'build/Release/tsrunc.node', 'build/Release/tsrunc-init'])
    if (!existsSync(join(REPO, f))) throw new Error(`${f} is missing: build first (npx node-gyp rebuild && node scripts/build.mjs)`);
}

/** Runs `script` (a test/vm/run-*-suite.sh) and collects its JSON report; kills qemu before `timeoutMs`. */
export function runVmSuite(script: string, name: string, timeoutMs: number): Promise<SuiteRun> {
  const cache = join(REPO, '.vm-cache');
  mkdirSync(cache, { recursive: true });
  const json = join(cache, `${name}-${process.pid}.json`);
  rmSync(json, { force: true });
  const t0 = Date.now();
  const child = spawn(script, ['--reporter=default', '--reporter=json', `--outputFile.json=${json}`], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    // the VM's own limit, below ours: qemu is gone before we would have to kill it
    env: childEnv({ VM_TIMEOUT: String(Math.floor(timeoutMs / 1000) - 15) }),
    detached: true, // own process group: a kill reaches qemu too
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // TERM lets run-in-vm.sh remove its control dir; KILL if that is not enough
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), 3_000).unref();
  }, timeoutMs - 8_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let report: JsonReport | undefined;
      try {
        report = JSON.parse(readFileSync(json, 'utf8')) as JsonReport;
      } catch {
        // no report: the guest did not get as far as vitest's end
      }
      rmSync(json, { force: true });
      resolve({ code, signal, output, report, ms: Date.now() - t0 });
    });
  });
}

export const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

/** One line per inner test (✓/×/skipped), then the failures' messages, then the end of the guest's output. */
export function describeRun(script: string, run: SuiteRun): string {
  const lines = [`${script} exited ${run.code ?? run.signal} after ${(run.ms / 1000).toFixed(1)} s`];
  for (const file of run.report?.testResults ?? []) {
    lines.push(`${file.name.replace(REPO + '/', '')}: ${file.status}${file.message ? ` (${file.message.split('\n')[0]})` : ''}`);
    for (const t of file.assertionResults) lines.push(`  ${t.status === 'passed' ? '✓' : t.status === 'failed' ? '×' : '-'} ${t.fullName} [${t.status}]`);
  }
  for (const file of run.report?.testResults ?? []) {
    for (const t of file.assertionResults.filter((a) => a.status === 'failed')) {
      lines.push(`--- ${t.fullName}`, ...(t.failureMessages ?? []).map((m) => plain(m).split('\n').slice(0, 12).join('\n')));
    }
  }
  if (!run.report) lines.push('--- output (last 60 lines)', ...plain(run.output).split('\n').slice(-60));
  return lines.join('\n');
}

/**
 * The guest's suite passed as a whole and every test in it ran: a guard that skipped (not in the VM, no
 * controllers, no AppArmor) would prove nothing.
 */
export function expectEveryTestPassed(script: string, run: SuiteRun): void {
  const why = describeRun(script, run);
  const summary = plain(run.output);
  expect(run.code, why).toBe(0);
  expect(summary, why).toMatch(/Tests\s+\d+ passed/);
  expect(summary, why).not.toMatch(/Tests\s+.*\d+ failed/);
  expect(run.report, why).toBeDefined();
  expect(run.report!.numFailedTests, why).toBe(0);
  expect(run.report!.numPendingTests + run.report!.numTodoTests, why).toBe(0);
  expect(run.report!.numPassedTests, why).toBe(run.report!.numTotalTests);
  expect(run.report!.numTotalTests, why).toBeGreaterThan(0);
}

