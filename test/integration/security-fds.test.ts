// Issue 13: no tsrunc stage that container code can see may expose an fd leading outside the container.
// An attacker (test/fixtures/fdscan.c, static) runs inside the container and walks /proc/*/fd/* of every
// process it can see, trying /proc/<pid>/fd/<n>/sys/kernel/core_pattern for writing (it never writes).
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, hostDir, makeBundle, state, tsrunc, tsruncOk, uniqueId, type Bundle, type Spec } from '../helpers';

const HOST_SYSCTLS = ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/core_uses_pid'];
const before = HOST_SYSCTLS.map((f) => readFileSync(f, 'utf8'));
let scanner = '';
// The scanner under a shell that stays: the container (and its pid namespace) outlives the scan.
const SCAN_INIT = ['sh', '-c', '/fdscan /tmp/scan 300 /tmp/stop; exec sleep 300'];

beforeAll(() => {
  scanner = join(hostDir('fdscan'), 'fdscan');
  execFileSync('cc', ['-static', '-O2', '-o', scanner, join(REPO, 'test', 'fixtures', 'fdscan.c')]);
});
afterAll(() => {
  // The point of it all: the host's core dump settings are what they were.
  expect(HOST_SYSCTLS.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
});

function bundleWithScanner(args: string[], mutate?: (spec: Spec) => void): Bundle {
  const b = makeBundle({
    args,
    mutate: (spec) => {
      spec.root!.readonly = false;
      mutate?.(spec);
    },
  });
  copyFileSync(scanner, join(b.rootfs, 'fdscan'));
  execFileSync('chmod', ['755', join(b.rootfs, 'fdscan')]);
  return b;
}

interface Scan {
  findings: string[];
  runtimePids: string[];
  lines: string[];
}

function parse(out: string): Scan {
  const lines = out.split('\n').filter(Boolean);
  return {
    lines,
    findings: lines.filter((l) => /^(ESCAPE|PROCFS|OUTSIDE|RTSOCK) /.test(l)),
    runtimePids: lines.filter((l) => l.startsWith('RUNTIME ')).map((l) => l.split(' ')[1]!),
  };
}

/** The scanner's report from inside `id`, once it has finished (stop file written). */
async function finishScan(id: string): Promise<Scan> {
  await tsruncOk(['exec', id, 'touch', '/tmp/stop']);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const out = await tsruncOk(['exec', id, 'cat', '/tmp/scan']);
    if (/^DONE \d+$/m.test(out)) return parse(out);
    if (Date.now() > deadline) throw new Error(`scanner did not finish: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForLine(id: string, re: RegExp): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const out = (await tsrunc(['exec', id, 'cat', '/tmp/scan'])).stdout;
    if (re.test(out)) return;
    if (Date.now() > deadline) throw new Error(`no ${re} in the scan: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('no fd of a tsrunc stage leads outside the container (issue 13)', () => {
  it('a created container: its waiting init shows nothing to the container', async () => {
    const b = bundleWithScanner(['sleep', '60']);
    const id = uniqueId('fdc');
    try {
      await tsruncOk(['create', '--bundle', b.dir, id]);
      expect((await state(id)).status).toBe('created');
      const r = await tsrunc(['exec', id, '/fdscan', '/tmp/scan', '1']);
      expect(r.stderr).toBe('');
      const scan = parse((await tsruncOk(['exec', id, 'cat', '/tmp/scan'])).toString());
      expect(scan.lines.at(-1)).toMatch(/^DONE \d+$/);
      // The scanner did see the waiting init (pid 1) and tried its fds.
      expect(scan.runtimePids).toContain('1');
      expect(scan.findings).toEqual([]);
      expect(scan.lines).toContain('RUNTIME 1 hidden');
    } finally {
      await tsrunc(['delete', '--force', id]);
      b.remove();
    }
  });

  for (const nnp of [true, false]) {
    it(`a running container racing 50 execs (noNewPrivileges ${nnp})`, async () => {
      const b = bundleWithScanner(SCAN_INIT, (spec) => void (spec.process!.noNewPrivileges = nnp));
      const id = uniqueId('fdx');
      try {
        await tsruncOk(['run', '-d', '--bundle', b.dir, id]);
        await waitForLine(id, /RUNTIME/); // the scanner runs (it saw the exec helper of `cat`)
        for (let i = 0; i < 50; i++) {
          const r = await tsrunc(['exec', ...(i % 2 ? ['--no-new-privs'] : []), id, 'true']);
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
        }
        const scan = await finishScan(id);
        expect(scan.runtimePids.length).toBeGreaterThan(1);
        expect(scan.findings).toEqual([]);
        // Not one exec helper let the scanner follow any of its fd links.
        expect(scan.lines.filter((l) => / links$/.test(l))).toEqual([]);
      } finally {
        await tsrunc(['delete', '--force', id]);
        b.remove();
      }
    }, 120_000);
  }

  it("a second container sharing the first's pid namespace: the first cannot reach the second's waiting init", async () => {
    const a = bundleWithScanner(SCAN_INIT);
    const idA = uniqueId('fda');
    const idB = uniqueId('fdb');
    let bBundle: Bundle | undefined;
    try {
      await tsruncOk(['run', '-d', '--bundle', a.dir, idA]);
      const pidA = (await state(idA)).pid!;
      bBundle = makeBundle({
        args: ['sleep', '60'],
        mutate: (spec) => {
          spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pidA}/ns/pid` } : n));
        },
      });
      await tsruncOk(['create', '--bundle', bBundle.dir, idB]);
      const pidB = (await state(idB)).pid!;
      // B's init, as A sees it: its pid in the shared namespace.
      const nspid = readFileSync(`/proc/${pidB}/status`, 'utf8').match(/^NSpid:\s+\d+\s+(\d+)/m)![1]!;
      await waitForLine(idA, new RegExp(`^RUNTIME ${nspid} `, 'm'));
      const scan = await finishScan(idA);
      expect(scan.runtimePids).toContain(nspid);
      expect(scan.lines).toContain(`RUNTIME ${nspid} hidden`);
      expect(scan.findings).toEqual([]);
    } finally {
      await tsrunc(['delete', '--force', idB]);
      await tsrunc(['delete', '--force', idA]);
      a.remove();
      bBundle?.remove();
    }
  }, 60_000);
});
