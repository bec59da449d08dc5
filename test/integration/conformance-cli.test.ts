// Issue 9, where runc 1.1.5 (and the spec) and tsrunc differed: capabilities that cannot be granted are
// warnings, the hostname of a joined uts namespace, the idle I/O class without a level, bad global
// options, --preserve-fds with a closed fd, socket activation's LISTEN_FDS/LISTEN_PID, --no-subreaper's
// exit status and `exec --cgroup`. Every failure must say something: exit 1 with an empty stderr is a bug.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv, hostDir, makeBundle, runContainer, sh, state, testRoot, tsrunc, tsruncArgv, tsruncOk, uniqueId,
  type Spec, type TsruncResult,
} from '../helpers';

/** A failure that says what went wrong: non-zero, and one line or more on stderr matching `what`. */
function expectFailure(r: TsruncResult, what: RegExp): void {
  expect(r.code, r.stdout).not.toBe(0);
  expect(r.stderr.trim()).not.toBe('');
  expect(r.stderr).toMatch(what);
}

const CAP_KILL = 5;
const CAP_SYS_RESOURCE = 24;

/** The Cap* lines of a /proc/<pid>/status as bigints. */
function capSets(status: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const m of status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)) out[m[1]!] = BigInt(`0x${m[2]}`);
  return out;
}
const has = (mask: bigint | undefined, cap: number) => mask !== undefined && ((mask >> BigInt(cap)) & 1n) === 1n;

describe('capabilities that cannot be granted are warnings (config.md process.capabilities)', () => {
  const wanted = ['CAP_KILL', 'CAP_SYS_RESOURCE', 'CAP_NO_SUCH_THING'];
  const mutate = (spec: Spec) => {
    spec.process!.capabilities = { bounding: wanted, effective: wanted, permitted: wanted };
  };

  it('this host is the case: tsrunc\'s own bounding set lacks CAP_SYS_RESOURCE', () => {
    // The test below relies on it (the premise); if this fails, the host changed.
    expect(has(capSets(readFileSync('/proc/self/status', 'utf8')).CapBnd, CAP_SYS_RESOURCE)).toBe(false);
  });

  it('an unknown name and one the runtime does not hold are warned about on stderr; the container runs with the rest', async () => {
    const r = await runContainer(mutate, ['cat', '/proc/self/status']);
    expect(r.code, r.stderr).toBe(0);
    const caps = capSets(r.stdout);
    for (const set of ['CapBnd', 'CapEff', 'CapPrm'] as const) {
      expect(has(caps[set], CAP_KILL), set).toBe(true);
      expect(has(caps[set], CAP_SYS_RESOURCE), set).toBe(false);
    }
    // One warning per capability and set, naming both.
    for (const set of ['bounding', 'effective', 'permitted']) {
      expect(r.stderr).toMatch(new RegExp(`warning: process\\.capabilities\\.${set}\\[1\\]: .*CAP_SYS_RESOURCE`));
      expect(r.stderr).toMatch(new RegExp(`warning: process\\.capabilities\\.${set}\\[2\\]: .*CAP_NO_SUCH_THING`));
    }
  });

  it('with --log F --log-format json the warnings are JSON lines in F, not on stderr', async () => {
    const log = join(hostDir('log'), 'log.json');
    const r = await runContainer(mutate, ['true'], { globalArgs: ['--log', log, '--log-format', 'json'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    const warnings = lines.filter((l) => l.level === 'warning').map((l) => l.msg);
    expect(warnings).toContainEqual(expect.stringMatching(/^process\.capabilities\.effective\[1\]: .*CAP_SYS_RESOURCE/));
    expect(warnings).toContainEqual(expect.stringMatching(/^process\.capabilities\.bounding\[2\]: .*"CAP_NO_SUCH_THING"/));
  });

  it('exec --cap of a capability the runtime lacks warns and runs', async () => {
    const id = uniqueId('capx');
    const bundle = makeBundle({ args: ['sleep', '100'] });
    try {
      await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
      const r = await tsrunc(['exec', '--cap', 'CAP_SYS_RESOURCE', id, 'cat', '/proc/self/status']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: process\.capabilities\.effective\[\d+\]: .*CAP_SYS_RESOURCE/);
      expect(has(capSets(r.stdout).CapEff, CAP_SYS_RESOURCE)).toBe(false);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});

describe('hostname and domainname in a joined uts namespace (config.md hostname)', () => {
  let holder: ChildProcess;
  beforeAll(async () => {
    holder = spawn('unshare', ['--uts', 'sleep', '1000'], { stdio: 'ignore' });
    // unshare execs sleep in its new namespace: wait until the pid shows another uts namespace.
    const deadline = Date.now() + 10_000;
    while (readlinkNs(holder.pid!) === readlinkNs(process.pid) || readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() !== 'sleep') {
      if (Date.now() > deadline) throw new Error('unshare --uts did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  afterAll(() => void holder?.kill('SIGKILL'));

  function readlinkNs(pid: number): string {
    return spawnSync('readlink', [`/proc/${pid}/ns/uts`], { encoding: 'utf8' }).stdout.trim();
  }

  it('are set in the joined namespace, which the container shares; the host keeps its name', async () => {
    const hostName = readFileSync('/proc/sys/kernel/hostname', 'utf8');
    const r = await runContainer(
      (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${holder.pid}/ns/uts` } : n));
        spec.hostname = 'joined-uts';
        spec.domainname = 'joined.example';
      },
      sh('hostname; cat /proc/sys/kernel/domainname'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('joined-uts\njoined.example\n');
    const seen = spawnSync('nsenter', ['-t', String(holder.pid), '-u', 'cat', '/proc/sys/kernel/hostname'], { encoding: 'utf8' });
    expect(seen.stdout).toBe('joined-uts\n');
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(hostName);
  });

  it('without any uts entry a hostname is still an error naming it (it would rename the host)', async () => {
    const r = await runContainer(
      (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'uts');
        spec.hostname = 'must-not-happen';
      },
      ['true'],
    );
    expectFailure(r, /hostname/);
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).not.toBe('must-not-happen');
  });
});

describe('process.ioPriority', () => {
  it('IOPRIO_CLASS_IDLE without a priority runs as idle (level 0) with a warning', async () => {
    const id = uniqueId('ioprio');
    const bundle = makeBundle({
      args: ['sleep', '100'],
      mutate: (spec) => {
        (spec.process as { ioPriority?: unknown }).ioPriority = { class: 'IOPRIO_CLASS_IDLE' };
      },
    });
    try {
      const r = await tsrunc(['run', '-d', '--bundle', bundle.dir, id]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: process\.ioPriority\.priority/);
      const { pid } = await state(id);
      expect(spawnSync('ionice', ['-p', String(pid)], { encoding: 'utf8' }).stdout.trim()).toBe('idle');
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});

describe('global options', () => {
  it('--log-format=invalid fails with a message, like runc', async () => {
    expectFailure(await tsrunc(['--log-format=invalid', 'list']), /log-format.*invalid/);
  });

  it('--log with a path that cannot be opened fails naming it', async () => {
    expectFailure(await tsrunc(['--log', '/nonexistent-dir-tsrunc/x/log', 'list']), /\/nonexistent-dir-tsrunc\/x\/log/);
    expectFailure(await tsrunc(['--log', hostDir('logdir'), 'list']), /--log/);
  });
});

describe('bad option values', () => {
  it.each([
    [['run', '--preserve-fds', 'x', 'c1'], /--preserve-fds.*not a count: x/],
    [['exec', '--preserve-fds', '-1', 'c1', 'true'], /--preserve-fds/],
    [['events', '--interval', 'soon', 'c1'], /invalid duration "soon"/],
  ])('%j fails with one line naming the value, not a stack trace', async (args, what) => {
    const r = await tsrunc(args as string[]);
    expectFailure(r, what as RegExp);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.cjs:\d+/);
  });
});

describe('--preserve-fds', () => {
  it('a closed fd fails run with a message naming it, and leaves no container', async () => {
    const id = uniqueId('pfd');
    const bundle = makeBundle({ args: ['true'] });
    const r = await tsrunc(['run', '--preserve-fds', '60', '--bundle', bundle.dir, id]);
    expectFailure(r, /preserved fd \d+ .*is not open/);
    expect(existsSync(join(testRoot(), id))).toBe(false);
  });

  it('a closed fd fails exec with a message naming it', async () => {
    const id = uniqueId('pfd');
    const bundle = makeBundle({ args: ['sleep', '100'] });
    try {
      await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
      expectFailure(await tsrunc(['exec', '--preserve-fds', '60', id, 'true']), /preserved fd \d+ .*is not open/);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});

/** `tsrunc ...args` with fd 3 open on `file`, started as `sh -c 'LISTEN_PID=<its pid> ...; exec node'`. */
function activated(args: string[], file: string, listenPid: 'self' | string) {
  const fd = openSync(file, 'w+');
  try {
    const pid = listenPid === 'self' ? '$$' : listenPid;
    return spawnSync('sh', ['-c', `LISTEN_PID=${pid} LISTEN_FDS=1 exec "$0" "$@"`, process.execPath, ...tsruncArgv(args)], {
      stdio: ['ignore', 'pipe', 'pipe', fd],
      env: childEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
  } finally {
    closeSync(fd);
  }
}

describe('socket activation (LISTEN_FDS with LISTEN_PID of tsrunc)', () => {
  it('the container gets fd 3 and LISTEN_FDS=1, LISTEN_PID=1 in its environment, as runc sets them', () => {
    const file = join(hostDir('listen'), 'fd3');
    const bundle = makeBundle({
      args: sh('echo "$LISTEN_FDS $LISTEN_PID" >&3'),
      mutate: (spec) => void spec.process!.env!.push('LISTEN_FDS=7'),
    });
    const r = activated(['run', '--bundle', bundle.dir, uniqueId('listen')], file, 'self');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('1 1\n');
  });

  it('LISTEN_PID of another process: no fds and no LISTEN_* are passed', () => {
    const file = join(hostDir('listen'), 'fd3');
    const bundle = makeBundle({ args: sh('echo "[$LISTEN_FDS]"; echo leaked >&3') });
    const r = activated(['run', '--bundle', bundle.dir, uniqueId('listen')], file, '1');
    expect(r.status).not.toBe(0); // fd 3 is not there
    expect(r.stdout).toBe('[]\n');
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('run --no-subreaper', () => {
  it('reports the exit status of the container\'s process', async () => {
    const bundle = makeBundle({ args: sh('exit 7') });
    const r = await tsrunc(['run', '--no-subreaper', '--bundle', bundle.dir, uniqueId('nosub')]);
    expect(r.code, r.stderr).toBe(7);
  });
});

describe('exec --cgroup (runc >= 1.1)', () => {
  const id = uniqueId('excg');
  let cgroupDir = '';
  beforeAll(async () => {
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
    const { pid } = await state(id);
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!;
    cgroupDir = `/sys/fs/cgroup/unified${line.slice(3)}`;
    mkdirSync(join(cgroupDir, 'sub'));
  });
  afterAll(async () => {
    await tsrunc(['delete', '--force', id]);
    if (cgroupDir && existsSync(join(cgroupDir, 'sub'))) rmdirSync(join(cgroupDir, 'sub'));
  });

  it('runs the process in an existing sub-cgroup of the container', async () => {
    const pidFile = join(hostDir('excg'), 'pid');
    await tsruncOk(['exec', '-d', '--pid-file', pidFile, '--cgroup', 'sub', id, 'sleep', '1000']);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!;
      expect(`/sys/fs/cgroup/unified${line.slice(3)}`).toBe(join(cgroupDir, 'sub'));
      expect(readFileSync(join(cgroupDir, 'sub', 'cgroup.procs'), 'utf8').trim().split('\n')).toContain(String(pid));
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('a sub-cgroup that does not exist, or lies outside the container\'s, is an error', async () => {
    expectFailure(await tsrunc(['exec', '--cgroup', 'nope', id, 'true']), /sub-cgroup "nope".*does not exist/);
    expectFailure(await tsrunc(['exec', '--cgroup', '../..', id, 'true']), /not below the container's cgroup/);
    expectFailure(await tsrunc(['exec', '--cgroup', 'pids:sub', id, 'true']), /--cgroup/);
    expect(existsSync(join(cgroupDir, 'nope'))).toBe(false);
  });
});
