// Lifecycle of real containers: create/start/state/kill/delete/run/list, as the container and /proc see it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alive,
  cgroupOf,
  containerCgroupDir,
  hostDir,
  makeBundle,
  runContainer,
  runId,
  sh,
  spawnTsrunc,
  state,
  testRoot,
  tsrunc,
  tsruncOk,
  uniqueId,
  waitForStatus,
  type Spec,
} from '../helpers';
import { removeTree } from '../helpers/fs';

/** Binds `src` at /host read-write. */
function withHost(src: string) {
  return (spec: Spec) => {
    spec.mounts!.push({ destination: '/host', type: 'bind', source: src, options: ['rbind', 'rw'] });
  };
}

/** Polls until `path` exists with content matching `re` (a container wrote it). */
async function waitForFile(path: string, re: RegExp = /./, timeout = 20_000): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (re.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${path} never matched ${re}: ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A shell init that logs the trapped signals to /host/sig and exits on TERM. */
const TRAPPER = sh(
  'for s in HUP USR1 USR2; do trap "echo $s >> /host/sig" $s; done; ' +
    'trap "echo TERM >> /host/sig; exit 0" TERM; echo ready > /host/ready; sleep 1000 & while :; do wait; done',
);

async function createOk(args: string[], mutate?: (s: Spec) => void, extra: string[] = []) {
  const bundle = makeBundle({ args, mutate });
  const id = uniqueId('lc');
  await tsruncOk(['create', ...extra, '--bundle', bundle.dir, id]);
  return { bundle, id };
}

describe('create and start', () => {
  it('create leaves the init waiting without running the user program; start runs it once', async () => {
    const host = hostDir();
    const { id } = await createOk(sh('echo started > /host/marker'), withHost(host));
    const st = await state(id);
    expect(st.status).toBe('created');
    expect(st.pid).toBeGreaterThan(1);
    expect(existsSync(join(host, 'marker'))).toBe(false);

    await tsruncOk(['start', id]);
    await waitForStatus(id, 'stopped');
    expect(readFileSync(join(host, 'marker'), 'utf8')).toBe('started\n');

    const again = await tsrunc(['start', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim()).not.toBe('');
    expect(readFileSync(join(host, 'marker'), 'utf8')).toBe('started\n');
    await tsruncOk(['delete', id]);
  });

  it('state has the OCI fields plus created, rootfs, an empty owner (as runc) and the config annotations; list names the owner', async () => {
    const { bundle, id } = await createOk(['true'], (s) => {
      s.annotations = { 'org.example.key': 'value', 'com.other': 'x' };
    });
    const before = Date.now();
    const st = await state(id);
    expect(st.ociVersion).toBe('1.3.0');
    expect(st.id).toBe(id);
    expect(st.status).toBe('created');
    expect(typeof st.pid).toBe('number');
    expect(st.bundle).toBe(bundle.dir);
    expect(st.rootfs).toBe(bundle.rootfs);
    const created = Date.parse(st.created as string);
    expect(Number.isNaN(created)).toBe(false);
    expect(before - created).toBeLessThan(60_000);
    expect(created - before).toBeLessThan(5_000);
    // runc's state leaves the owner empty; its list names the state directory's owner
    expect(st.owner).toBe('');
    const listed = JSON.parse(await tsruncOk(['list', '--format', 'json'])) as Array<{ id: string; owner: string }>;
    expect(listed.find((c) => c.id === id)?.owner).toBe('root');
    expect(st.annotations).toEqual({ 'org.example.key': 'value', 'com.other': 'x' });
    await tsruncOk(['delete', '--force', id]);
  });

  it("list lays its table out as runc's does (Go's tabwriter: columns at least 12 wide, 3 spaces of padding)", async () => {
    // runc 1.1's output for an empty root, byte for byte
    expect(await tsruncOk(['list'], { root: hostDir('empty-root') })).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
    const { id } = await createOk(['true']);
    const lines = (await tsruncOk(['list'])).split('\n');
    const row = lines.find((l) => l.startsWith(`${id} `))!;
    const { pid } = await state(id);
    // every column starts where its header does: after the widest cell plus 3, or at 12
    for (const [header, cell] of [['PID', String(pid)], ['STATUS', 'created'], ['OWNER', 'root']] as const) {
      expect(row.indexOf(` ${cell}`) + 1, header).toBe(lines[0]!.indexOf(header));
    }
    expect(lines[0]!.indexOf('PID')).toBe(Math.max(12, ...lines.filter(Boolean).map((l) => l.split(' ')[0]!.length + 3)));
    await tsruncOk(['delete', '--force', id]);
  });

  it("state's ociVersion is the runtime's spec version, whatever the config's (as runc's)", async () => {
    const { id } = await createOk(['true'], (s) => {
      s.ociVersion = '1.0.2';
    });
    expect((await state(id)).ociVersion).toBe('1.3.0');
    await tsruncOk(['delete', '--force', id]);
  });

  it('running becomes stopped when the user process exits', async () => {
    const host = hostDir();
    // A fifo the container blocks on until the test writes to it: no sleeps on either side.
    execFileSync('mkfifo', [join(host, 'fifo')]);
    const { id } = await createOk(sh('echo up > /host/up; read x < /host/fifo; echo "$x" > /host/got'), withHost(host));
    await tsruncOk(['start', id]);
    await waitForFile(join(host, 'up'));
    expect((await state(id)).status).toBe('running');
    writeFileSync(join(host, 'fifo'), 'bye\n');
    await waitForStatus(id, 'stopped');
    expect(readFileSync(join(host, 'got'), 'utf8')).toBe('bye\n');
    await tsruncOk(['delete', id]);
  });

  it('--pid-file is written at create with the init pid', async () => {
    const dir = hostDir();
    const pidFile = join(dir, 'pid');
    const { id } = await createOk(['true'], undefined, ['--pid-file', pidFile]);
    const st = await state(id);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(st.pid));
    await tsruncOk(['delete', '--force', id]);
  });

  it('a created init is small (VmRSS <= 1.5 MiB) and runs from a memfd, not a writable host binary', async () => {
    const { id } = await createOk(['true']);
    const { pid } = await state(id);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThanOrEqual(1536);
    const exe = readlinkSync(`/proc/${pid}/exe`);
    expect(exe).toMatch(/^\/memfd:/);
    expect(() => writeFileSync(`/proc/${pid}/exe`, 'overwritten', { flag: 'r+' })).toThrow();
    await tsruncOk(['delete', '--force', id]);
  });

  it('two concurrent starts of one container: exactly one succeeds', async () => {
    const host = hostDir();
    const { id } = await createOk(sh('echo x >> /host/runs'), withHost(host));
    const results = await Promise.all([tsrunc(['start', id]), tsrunc(['start', id])]);
    const codes = results.map((r) => r.code).sort();
    expect(codes[0]).toBe(0);
    expect(codes[1]).not.toBe(0);
    await waitForStatus(id, 'stopped');
    expect(readFileSync(join(host, 'runs'), 'utf8')).toBe('x\n');
    await tsruncOk(['delete', id]);
  });

  it('start of a running, paused or stopped container fails and names its state', async () => {
    const { id } = await createOk(['sleep', '1000']);
    await tsruncOk(['start', id]);
    const startError = async () => {
      const r = await tsrunc(['start', id]);
      expect(r.code).not.toBe(0);
      return r.stderr.trim();
    };
    expect(await startError()).toBe('tsrunc: start: cannot start an already running container');
    await tsruncOk(['pause', id]);
    expect(await startError()).toBe('tsrunc: start: cannot start an already paused container');
    await tsruncOk(['resume', id]);
    await tsruncOk(['kill', id, 'KILL']);
    await waitForStatus(id, 'stopped');
    expect(await startError()).toBe('tsrunc: start: cannot start a container that has stopped');
    await tsruncOk(['delete', id]);
  });
});

describe('kill', () => {
  it('delivers signals by name, SIG name and number; TERM by default', async () => {
    const host = hostDir();
    const { id } = await createOk(TRAPPER, withHost(host));
    await tsruncOk(['start', id]);
    await waitForFile(join(host, 'ready'));
    const sig = join(host, 'sig');
    await tsruncOk(['kill', id, 'USR1']);
    await waitForFile(sig, /USR1\n$/);
    await tsruncOk(['kill', id, 'SIGUSR2']);
    await waitForFile(sig, /USR2\n$/);
    await tsruncOk(['kill', id, '1']);
    await waitForFile(sig, /HUP\n$/);
    expect((await state(id)).status).toBe('running');
    await tsruncOk(['kill', id]);
    await waitForStatus(id, 'stopped');
    expect(readFileSync(sig, 'utf8')).toBe('USR1\nUSR2\nHUP\nTERM\n');
    await tsruncOk(['delete', id]);
  });

  for (const signal of ['KILL', 'SIGKILL', '9']) {
    it(`kill ${signal} stops a running container`, async () => {
      const { id } = await createOk(['sleep', '1000']);
      await tsruncOk(['start', id]);
      expect((await state(id)).status).toBe('running');
      await tsruncOk(['kill', id, signal]);
      await waitForStatus(id, 'stopped');
      await tsruncOk(['delete', id]);
    });
  }

  it('kill of a stopped container fails; an unknown signal fails', async () => {
    const { id } = await createOk(['sleep', '1000']);
    await tsruncOk(['start', id]);
    const bad = await tsrunc(['kill', id, 'NOSUCHSIG']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/NOSUCHSIG/);
    expect((await state(id)).status).toBe('running');
    await tsruncOk(['kill', id, 'KILL']);
    await waitForStatus(id, 'stopped');
    const r = await tsrunc(['kill', id, 'KILL']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).not.toBe('');
    await tsruncOk(['delete', id]);
  });
});

describe('delete', () => {
  it('a running container needs --force; with it, everything goes', async () => {
    const { id } = await createOk(['sleep', '1000']);
    await tsruncOk(['start', id]);
    const { pid } = await state(id);
    expect(cgroupOf(pid!)).toBe(`/tsrunc/${id}`);
    expect(existsSync(containerCgroupDir(id)), 'cgroup before delete').toBe(true);
    const r = await tsrunc(['delete', id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/running/);
    expect((await state(id)).status).toBe('running');
    await tsruncOk(['delete', '--force', id]);
    expect(existsSync(join(testRoot(), id))).toBe(false);
    expect(existsSync(containerCgroupDir(id))).toBe(false);
    // The init is gone (or at most a zombie of nobody we know).
    expect(alive(pid!)).toBe(false);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
  });

  it('a created container: refused without --force (runtime.md: not stopped), deleted with it, never started', async () => {
    const host = hostDir();
    const { id } = await createOk(sh('echo ran > /host/marker'), withHost(host));
    expect(existsSync(containerCgroupDir(id)), 'cgroup before delete').toBe(true);
    const r = await tsrunc(['delete', id]);
    expect(r.code).not.toBe(0);
    expect((await state(id)).status).toBe('created');
    await tsruncOk(['delete', '--force', id]);
    expect(existsSync(join(testRoot(), id))).toBe(false);
    expect(existsSync(containerCgroupDir(id))).toBe(false);
    expect(existsSync(join(host, 'marker'))).toBe(false);
  });
});

describe('run', () => {
  it('exits with the container status', async () => {
    expect((await runContainer(undefined, sh('exit 7'))).code).toBe(7);
    expect((await runContainer(undefined, ['true'])).code).toBe(0);
    expect((await runContainer(undefined, ['false'])).code).toBe(1);
  });

  it('exits 128+N when the container init is killed by signal N', async () => {
    // Without a pid namespace the init is not pid 1 and can signal itself.
    const noPidns = (s: Spec) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    };
    const self = await runContainer(noPidns, sh('kill -TERM $$'));
    expect(self.code, self.stderr).toBe(143);

    // With one, from outside: tsrunc kill KILL while `run` waits.
    const host = hostDir();
    const bundle = makeBundle({ args: sh('echo up > /host/up; exec sleep 1000'), mutate: withHost(host) });
    const id = uniqueId('run');
    const running = tsrunc(['run', '--bundle', bundle.dir, id]);
    await waitForFile(join(host, 'up'));
    await tsruncOk(['kill', id, 'KILL']);
    const r = await running;
    expect(r.code).toBe(137);
    await tsrunc(['delete', '--force', id]);
  });

  it('passes stdin, stdout and stderr through untouched when terminal is false', async () => {
    const r = await runContainer(undefined, sh('read a; read b; echo "got:$a:$b"; echo "to-stderr" >&2'), {
      input: 'hello\nworld\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('got:hello:world\n');
    expect(r.stderr).toBe('to-stderr\n');
  });

  it('run -d returns with the container running', async () => {
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    const id = uniqueId('rund');
    const r = await tsrunc(['run', '-d', '--bundle', bundle.dir, id]);
    expect(r.code).toBe(0);
    const st = await state(id);
    expect(st.status).toBe('running');
    expect(readFileSync(`/proc/${st.pid}/cmdline`, 'utf8')).toBe('sleep\x001000\x00');
    await tsruncOk(['delete', '--force', id]);
  });
});

describe('list', () => {
  it('lists containers as a table, as JSON and as bare ids', async () => {
    const root = join('/run', `tsrunc-test-${runId()}-list-${process.pid}`);
    const a = makeBundle({ args: ['sleep', '1000'] });
    const b = makeBundle({ args: ['true'] });
    const ids = [uniqueId('la'), uniqueId('lb')];
    try {
      await tsruncOk(['create', '--bundle', a.dir, ids[0]], { root });
      await tsruncOk(['run', '-d', '--bundle', a.dir, ids[1]], { root });
      await tsruncOk(['create', '--bundle', b.dir, 'third'], { root });

      const table = (await tsruncOk(['list'], { root })).trim().split('\n');
      expect(table[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
      expect(table).toHaveLength(4);
      const row = table.find((l) => l.startsWith(ids[0] + ' '));
      expect(row).toMatch(new RegExp(`\\bcreated\\s+${a.dir}\\b`));
      expect(table.find((l) => l.startsWith(ids[1] + ' '))).toMatch(/\brunning\b/);

      const json = JSON.parse(await tsruncOk(['list', '-f', 'json'], { root })) as Array<Record<string, unknown>>;
      expect(json.map((c) => c.id).sort()).toEqual([...ids, 'third'].sort());
      const first = json.find((c) => c.id === ids[0])!;
      expect(first.status).toBe('created');
      expect(first.bundle).toBe(a.dir);
      expect(typeof first.pid).toBe('number');

      const quiet = (await tsruncOk(['list', '-q'], { root })).trim().split('\n').sort();
      expect(quiet).toEqual([...ids, 'third'].sort());
    } finally {
      for (const id of [...ids, 'third']) await tsrunc(['delete', '--force', id], { root });
      removeTree(root);
    }
  });

  it('an empty root lists only the header', async () => {
    const root = join('/run', `tsrunc-test-${runId()}-empty-${process.pid}`);
    try {
      const out = (await tsruncOk(['list'], { root })).trim().split('\n');
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^ID\s+PID\s+STATUS/);
      expect(JSON.parse(await tsruncOk(['list', '-f', 'json'], { root }))).toEqual([]);
    } finally {
      removeTree(root);
    }
  });
});

describe('signals to a foreground run or exec', () => {
  // Logs HUP and INT, exits 3 on TERM; "ready" once the traps are set. `wait` returns on a trapped signal.
  const SIGNAL_LOGGER =
    'for s in HUP INT; do trap "echo $s >> /host/sig" $s; done; trap "echo TERM >> /host/sig; exit 3" TERM; ' +
    'echo ready > /host/ready; sleep 1000 & while :; do wait; done';

  it.each(['run', 'exec'] as const)('%s: HUP, INT and TERM sent to tsrunc reach the container process; its exit status is ours', async (mode) => {
    const host = hostDir();
    const id = uniqueId('sig');
    let child;
    if (mode === 'run') {
      const bundle = makeBundle({ args: sh(SIGNAL_LOGGER), mutate: withHost(host) });
      child = spawnTsrunc(['run', '--bundle', bundle.dir, id], { stdio: 'ignore' });
    } else {
      const bundle = makeBundle({ args: ['sleep', '1000'], mutate: withHost(host) });
      await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
      child = spawnTsrunc(['exec', id, ...sh(SIGNAL_LOGGER)], { stdio: 'ignore' });
    }
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
    try {
      await waitForFile(join(host, 'ready'));
      for (const [sig, name] of [['SIGHUP', 'HUP'], ['SIGINT', 'INT']] as const) {
        child.kill(sig);
        await waitForFile(join(host, 'sig'), new RegExp(`^${name}$`, 'm'));
      }
      child.kill('SIGTERM');
      expect(await exited).toEqual([3, null]);
      expect(readFileSync(join(host, 'sig'), 'utf8')).toBe('HUP\nINT\nTERM\n');
    } finally {
      child.kill('SIGKILL');
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('run: a signal sent to tsrunc while the container is still being created is passed on once it runs', async () => {
    const host = hostDir();
    const id = uniqueId('sigq');
    // No pid namespace: `sleep` is not an init, so HUP without a handler ends it (status 129).
    const bundle = makeBundle({
      args: ['sleep', '1000'],
      mutate: (spec) => void (spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid')),
    });
    // The createRuntime hook says it runs, then waits for the test: tsrunc is mid-create meanwhile.
    const go = join(host, 'go');
    execFileSync('mkfifo', [go]);
    const hook = join(bundle.dir, 'hold.sh');
    writeFileSync(hook, `#!/bin/sh\necho in > ${host}/in-hook\nread x < ${go}\n`, { mode: 0o755 });
    bundle.spec.hooks = { createRuntime: [{ path: hook }] };
    bundle.save();
    const child = spawnTsrunc(['run', '--bundle', bundle.dir, id], { stdio: 'ignore' });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
    try {
      await waitForFile(join(host, 'in-hook'));
      child.kill('SIGHUP');
      writeFileSync(go, 'go\n');
      // runc's behaviour: tsrunc lives on, and the queued HUP ends the container's process once it runs
      expect(await exited).toEqual([129, null]);
    } finally {
      child.kill('SIGKILL');
      await tsrunc(['delete', '--force', id]);
    }
  });
});
