// The cgroup v2 suite (test/cgroups-vm/) needs real v2 controllers, which this host does not have: it runs in
// one throw-away qemu guest (test/vm/run-cgroup-suite.sh). Without qemu this test fails: CI installs it, and
// a skip must not stand in for resource limits nobody checked.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv, REPO } from '../helpers/env';

const SUITE = join(REPO, 'test/vm/run-cgroup-suite.sh');
// Generous: the guest runs code 10-20x slower, and the host is shared; a hang still ends here.
const TIMEOUT_MS = 600_000;

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages?: string[] }[] }[];
}

interface SuiteRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  report?: JsonReport;
  ms: number;
}

/** Runs the suite in the VM with vitest's JSON reporter next to the default one (the project dir is shared). */
function runSuite(): Promise<SuiteRun> {
  const cache = join(REPO, '.vm-cache');
  mkdirSync(cache, { recursive: true });
  const json = join(cache, `cgroup-suite-${process.pid}.json`);
  rmSync(json, { force: true });
  const t0 = Date.now();
  const child = spawn(SUITE, ['--reporter=default', '--reporter=json', `--outputFile.json=${json}`], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    // the VM's own limit, below ours: qemu is gone before we would have to kill it
    env: childEnv({ VM_TIMEOUT: String(Math.floor(TIMEOUT_MS / 1000) - 15) }),
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
  }, TIMEOUT_MS - 8_000);
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

const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

/** One line per inner test (✓/×/skipped), then the failures' messages, then the end of the guest's output. */
function describeRun(run: SuiteRun): string {
  const lines = [`run-cgroup-suite.sh exited ${run.code ?? run.signal} after ${(run.ms / 1000).toFixed(1)} s`];
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

describe('cgroup v2 suite in a qemu guest', () => {
  it('passes every test of test/cgroups-vm/ in one VM boot', { timeout: TIMEOUT_MS }, async () => {
    const qemu = onPath('qemu-system-x86_64');
    if (!qemu) {
      throw new Error(
        'qemu-system-x86_64 is not installed: the cgroup v2 resource tests (test/cgroups-vm/) cannot run. ' +
          'Install qemu-system-x86 busybox-static cpio kmod xz-utils (see test/vm/README.md).',
      );
    }
    for (const f of ['dist/tsrunc.cjs', 'build/Release/tsrunc.node', 'build/Release/tsrunc-init']) {
      expect(existsSync(join(REPO, f)), `${f} is missing: build first (npx node-gyp rebuild && node scripts/build.mjs)`).toBe(true);
    }
    const run = await runSuite();
    const why = describeRun(run);
    const summary = plain(run.output);
    expect(run.code, why).toBe(0);
    expect(summary, why).toMatch(/Tests\s+\d+ passed/);
    expect(summary, why).not.toMatch(/Tests\s+.*\d+ failed/);
    // every test ran: a guard that skipped (not in the VM, no controllers) would prove nothing
    expect(run.report, why).toBeDefined();
    expect(run.report!.numFailedTests, why).toBe(0);
    expect(run.report!.numPendingTests + run.report!.numTodoTests, why).toBe(0);
    expect(run.report!.numPassedTests, why).toBe(run.report!.numTotalTests);
    expect(run.report!.numTotalTests, why).toBeGreaterThan(0);
  });
});
