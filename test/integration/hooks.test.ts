// OCI hooks: each kind at its point of the lifecycle, with the state on stdin, in the right namespaces and
// order, and the runtime-spec 1.3 failure rules. Hook scripts append what they see to a log file.
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, containerCgroupDir, makeBundle, state, testRoot, tsrunc, tsruncOk, uniqueId, waitFor, waitForStatus, type Bundle, type Spec } from '../helpers';

type Kind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

interface LogLine {
  kind: string;
  state: { ociVersion: string; id: string; status: string; pid?: number; bundle: string; annotations?: Record<string, string> };
  mntns: string;
  extra: string;
}

/** Logs the init's command line, as the poststart hook sees it. */
const POSTSTART =
  's=$(cat)\npid=$(echo "$s" | sed \'s/.*"pid":\\([0-9]*\\).*/\\1/\')\n' +
  "printf '%s\\t%s\\t%s\\t%s\\n' poststart \"$s\" \"$(readlink /proc/self/ns/mnt)\" \"$(tr '\\0' ' ' < /proc/$pid/cmdline)\" >> /HOOKLOG/log";

const HOOK_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/**
 * A bundle whose hooks log to <bundle>/hooklog/log (bound at /hooklog in the container). `script(kind)`
 * names the hook script: host-side hooks live in the bundle dir, startContainer's in the rootfs.
 */
function hookBundle(args: string[], mutate: (spec: Spec, b: { script: (name: string, body: string, inContainer?: boolean) => string; log: string }) => void) {
  let logDir = '';
  let bundleDir = '';
  const scripts: Array<[string, string]> = [];
  const bundle = makeBundle({
    args,
    mutate: (spec) => {
      spec.mounts!.push({ destination: '/hooklog', type: 'bind', source: '/HOOKLOG', options: ['rbind', 'rw'] });
      spec.annotations = { 'org.example.hooks': 'yes' };
      mutate(spec, {
        log: '/HOOKLOG/log',
        script: (name, body, inContainer = false) => {
          scripts.push([name, body]);
          return inContainer ? `/${name}` : `/BUNDLE/${name}`;
        },
      });
    },
  });
  bundleDir = bundle.dir;
  logDir = join(bundle.dir, 'hooklog');
  mkdirSync(logDir);
  // Paths are known only now: patch the placeholders and write the scripts.
  const fix = (s: string) => s.replaceAll('/HOOKLOG', logDir).replaceAll('/BUNDLE', bundleDir);
  bundle.spec = JSON.parse(fix(JSON.stringify(bundle.spec))) as Spec;
  const hooks = bundle.spec.hooks as Record<string, Array<{ path: string }>> | undefined;
  for (const [name, body] of scripts) {
    const inContainer = (hooks?.startContainer ?? []).some((h) => h.path === `/${name}`);
    const file = inContainer ? join(bundle.rootfs, name) : join(bundle.dir, name);
    // The container-side script logs through the bind mount, the host-side ones to the host path.
    writeFileSync(file, `#!/bin/sh\n${inContainer ? body.replaceAll('/HOOKLOG', '/hooklog') : fix(body)}\n`);
    chmodSync(file, 0o755);
  }
  bundle.save();
  return { bundle, logFile: join(logDir, 'log') };
}

/** A hook script body that logs "<kind>\t<stdin>\t<mount ns>\t<extra>" and then runs `then`. */
function logger(kind: string, then = '', extra = ''): string {
  return `s=$(cat)\nprintf '%s\\t%s\\t%s\\t%s\\n' '${kind}' "$s" "$(readlink /proc/self/ns/mnt)" "${extra}" >> /HOOKLOG/log\n${then}`;
}

/** What the user's program logs when it runs. */
const PROCESS_LINE = "printf 'process\\t{}\\t\\t\\n' >> /hooklog/log";

function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, st, mntns, extra] = line.split('\t');
      return { kind: kind!, state: st ? JSON.parse(st) : ({} as LogLine['state']), mntns: mntns ?? '', extra: extra ?? '' };
    });
}

function hook(path: string, extra: { timeout?: number; args?: string[] } = {}) {
  return { path, env: HOOK_ENV, ...extra };
}

/** Nothing of the container is left: no state, no cgroup, no process. */
function expectGone(id: string, pid: number | undefined) {
  expect(existsSync(join(testRoot(), id))).toBe(false);
  expect(existsSync(containerCgroupDir(id))).toBe(false);
  if (pid) expect(alive(pid)).toBe(false);
}

/** A hook log `extra` that says whether the container's cgroup dir exists when the hook runs. */
const CGROUP_SEEN = (id: string) => `$(test -d ${containerCgroupDir(id)} && echo cgroup)`;

describe('hooks run at their points with the state on stdin', () => {
  it('every kind, in the spec order, with the state of its moment', async () => {
    const { bundle, logFile } = hookBundle(['sh', '-c', `${PROCESS_LINE}; exec sleep 100`], (spec, b) => {
      spec.hooks = {
        prestart: [hook(b.script('prestart.sh', logger('prestart')))],
        createRuntime: [hook(b.script('cr1.sh', logger('createRuntime1'))), hook(b.script('cr2.sh', logger('createRuntime2')))],
        createContainer: [hook(b.script('cc.sh', logger('createContainer', '', '$(test -d /BUNDLE/rootfs/bin && echo host-paths)')))],
        startContainer: [hook(b.script('sc.sh', logger('startContainer', '', '$(hostname)'), true))],
        poststart: [hook(b.script('ps.sh', POSTSTART))],
        poststop: [hook(b.script('pst.sh', logger('poststop')))],
      };
      spec.hostname = 'hooked';
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const created = await state(id);
    let log = readLog(logFile);
    expect(log.map((l) => l.kind)).toEqual(['prestart', 'createRuntime1', 'createRuntime2', 'createContainer']);
    for (const l of log) {
      expect(l.state).toEqual({
        ociVersion: bundle.spec.ociVersion,
        id,
        status: 'creating',
        pid: created.pid,
        bundle: bundle.dir,
        annotations: { 'org.example.hooks': 'yes' },
      });
    }
    // createContainer ran before pivot_root, where the host's paths were still visible.
    expect(log[3]!.extra).toBe('host-paths');

    await tsruncOk(['start', id]);
    // The user's program logs its line on its own time: wait for it before checking the order.
    log = await waitFor('the process line in the hook log', () => {
      const l = readLog(logFile);
      return l.some((x) => x.kind === 'process') && l;
    });
    const kinds = log.map((l) => l.kind);
    expect(kinds.slice(0, 4)).toEqual(['prestart', 'createRuntime1', 'createRuntime2', 'createContainer']);
    expect(kinds).toContain('poststart');
    // startContainer runs in the container (its hostname) before the user's program.
    expect(kinds.indexOf('startContainer')).toBeGreaterThan(3);
    expect(kinds.indexOf('startContainer')).toBeLessThan(kinds.indexOf('process'));
    const sc = log.find((l) => l.kind === 'startContainer')!;
    expect(sc.extra).toBe('hooked');
    expect(sc.state).toMatchObject({ id, status: 'created', pid: created.pid, bundle: bundle.dir });
    // poststart: the user's program is already running in the init (its sh, or the sleep it execs;
    // never tsrunc-init).
    const ps = log.find((l) => l.kind === 'poststart')!;
    expect(ps.state).toMatchObject({ id, status: 'running', pid: created.pid, bundle: bundle.dir });
    expect(ps.extra.trim()).toMatch(/^(sh -c .*exec sleep 100|sleep 100)$/);
    expect(readLog(logFile).some((l) => l.kind === 'poststop')).toBe(false);

    await tsruncOk(['kill', id, 'KILL']);
    await waitForStatus(id, 'stopped');
    expect(readLog(logFile).some((l) => l.kind === 'poststop')).toBe(false);
    await tsruncOk(['delete', id]);
    log = readLog(logFile);
    expect(log.at(-1)!.kind).toBe('poststop');
    expect(log.at(-1)!.state).toMatchObject({ id, status: 'stopped', bundle: bundle.dir });
  });

  it('createContainer runs in the container mount namespace, createRuntime and poststart in the host one', async () => {
    const { bundle, logFile } = hookBundle(['sleep', '100'], (spec, b) => {
      spec.hooks = {
        createRuntime: [hook(b.script('cr.sh', logger('createRuntime')))],
        createContainer: [hook(b.script('cc.sh', logger('createContainer')))],
        startContainer: [hook(b.script('sc.sh', logger('startContainer'), true))],
        poststart: [hook(b.script('ps.sh', logger('poststart')))],
      };
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    await tsruncOk(['start', id]);
    const { pid } = await state(id);
    const initNs = readlinkSync(`/proc/${pid}/ns/mnt`);
    const hostNs = readlinkSync('/proc/self/ns/mnt');
    expect(initNs).not.toBe(hostNs);
    const ns = Object.fromEntries(readLog(logFile).map((l) => [l.kind, l.mntns]));
    expect(ns).toEqual({ createRuntime: hostNs, createContainer: initNs, startContainer: initNs, poststart: hostNs });
    await tsruncOk(['delete', '--force', id]);
  });

  // busybox picks its applet by argv[0]: "sh" only if args[0] reached the hook as argv[0].
  it.each(['createRuntime', 'createContainer'] as const)('%s: args[0] is argv[0], env is exactly the hook env', async (kind: Kind) => {
    const { bundle, logFile } = hookBundle(['true'], (spec) => {
      const script = "cat >/dev/null; printf 'args\\t{}\\t\\t%s\\n' \"$0|$1|$2|$(env | grep -v ^PWD= | sort | tr '\\n' ',')\" >> /HOOKLOG/log";
      spec.hooks = { [kind]: [{ path: '/bin/busybox', args: ['sh', '-c', script, 'zero', 'one'], env: ['FOO=bar', 'PATH=/bin:/usr/bin'] }] };
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const line = readLog(logFile)[0]!;
    expect(line.extra.split('|')).toEqual(['zero', 'one', '', 'FOO=bar,PATH=/bin:/usr/bin,SHLVL=1,']);
    await tsruncOk(['delete', '--force', id]);
  });
});

describe('failing hooks', () => {
  /** A hook that records its stdin state (for the pid) and exits with `code`. */
  const failing = (code: number) => logger('failing', `exit ${code}`);

  it.each(['prestart', 'createRuntime', 'createContainer'] as const)('a failing %s hook fails create and leaves nothing behind', async (kind: Kind) => {
    const id = uniqueId('hk');
    const { bundle, logFile } = hookBundle(['sh', '-c', PROCESS_LINE], (spec, b) => {
      spec.hooks = {
        [kind]: [hook(b.script('ok.sh', logger('ok', '', CGROUP_SEEN(id)))), hook(b.script('bad.sh', `echo oops >&2; ${failing(3)}`))],
        poststart: [hook(b.script('ps.sh', logger('poststart')))],
        poststop: [hook(b.script('pst.sh', logger('poststop')))],
      };
    });
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hooks.${kind}[1]: exit status 3`);
    expect(r.stderr).toContain('oops');
    const log = readLog(logFile);
    // The container is destroyed, then the poststop hooks run (runtime.md lifecycle steps 12-13).
    expect(log.map((l) => l.kind)).toEqual(['ok', 'failing', 'poststop']);
    expect(log[0]!.extra, 'the cgroup existed while the hooks ran').toBe('cgroup');
    expect(log[2]!.state).toMatchObject({ id, status: 'stopped', bundle: bundle.dir });
    expectGone(id, log[1]!.state.pid);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
  });

  it('a failing startContainer hook fails start, the program never runs and nothing is left', async () => {
    const { bundle, logFile } = hookBundle(['sh', '-c', PROCESS_LINE], (spec, b) => {
      spec.hooks = { startContainer: [hook(b.script('bad.sh', failing(4), true))], poststop: [hook(b.script('pst.sh', logger('poststop')))] };
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const { pid } = await state(id);
    expect(existsSync(containerCgroupDir(id)), 'cgroup after create').toBe(true);
    const r = await tsrunc(['start', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hooks.startContainer[0]: exit status 4');
    expect(readLog(logFile).map((l) => l.kind)).toEqual(['failing', 'poststop']);
    expectGone(id, pid);
  });

  it('a failing poststart hook fails start and destroys the container (then poststop)', async () => {
    const { bundle, logFile } = hookBundle(['sleep', '100'], (spec, b) => {
      spec.hooks = {
        poststart: [hook(b.script('ok.sh', logger('ok'))), hook(b.script('bad.sh', failing(5))), hook(b.script('never.sh', logger('never')))],
        poststop: [hook(b.script('pst.sh', logger('poststop')))],
      };
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const { pid } = await state(id);
    expect(existsSync(containerCgroupDir(id)), 'cgroup after create').toBe(true);
    const r = await tsrunc(['start', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hooks.poststart[1]: exit status 5');
    // runtime.md 1.3.0 lifecycle step 12: destroyed, then the poststop hooks (issue 9).
    expect(readLog(logFile).map((l) => l.kind)).toEqual(['ok', 'failing', 'poststop']);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
    expectGone(id, pid);
  });

  it('a failing poststop hook is a warning: the next one runs and delete succeeds', async () => {
    const { bundle, logFile } = hookBundle(['true'], (spec, b) => {
      spec.hooks = { poststop: [hook(b.script('bad.sh', failing(6))), hook(b.script('after.sh', logger('after')))] };
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const { pid } = await state(id);
    expect(existsSync(containerCgroupDir(id)), 'cgroup after create').toBe(true);
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('hooks.poststop[0]: exit status 6');
    expect(readLog(logFile).map((l) => l.kind)).toEqual(['failing', 'after']);
    expectGone(id, pid);
  });

  it('a missing hook binary fails create with the path', async () => {
    const { bundle } = hookBundle(['true'], (spec) => {
      spec.hooks = { createRuntime: [hook('/nonexistent/hook')] };
    });
    const id = uniqueId('hk');
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hooks\.createRuntime\[0\]: exec \/nonexistent\/hook: no such file or directory/);
    expectGone(id, undefined);
  });
});

describe('hook timeouts', () => {
  it.each(['createRuntime', 'createContainer', 'startContainer'] as const)('a %s hook that outlives its timeout is killed and fails', async (kind: Kind) => {
    const inContainer = kind === 'startContainer';
    const id = uniqueId('hk');
    const { bundle, logFile } = hookBundle(['true'], (spec, b) => {
      spec.hooks = { [kind]: [hook(b.script('slow.sh', logger('slow', 'exec sleep 30', `$$ ${CGROUP_SEEN(id)}`), inContainer), { timeout: 1 })] };
    });
    const t0 = Date.now();
    let r;
    if (inContainer) {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      expect(existsSync(containerCgroupDir(id)), 'cgroup after create').toBe(true);
      r = await tsrunc(['start', id]);
    } else {
      r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    }
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hooks.${kind}[0]: timed out after 1 s (killed)`);
    expect(Date.now() - t0).toBeLessThan(25_000); // killed at 1 s, not after the hook's 30 s sleep
    const line = readLog(logFile)[0]!;
    const [hookPid, cgroupSeen] = line.extra.split(' ');
    // startContainer runs after pivot_root: the host's cgroup path is not visible there.
    if (!inContainer) expect(cgroupSeen, 'the cgroup existed while the hook ran').toBe('cgroup');
    // The host-side hook's pid is the runtime's view; container-side ones die with the container.
    if (kind === 'createRuntime') expect(alive(Number(hookPid))).toBe(false);
    expectGone(id, line.state.pid);
  });

  it.each(['createRuntime', 'createContainer'] as const)('a %s hook leaving a child that holds its output does not hold up create', async (kind: Kind) => {
    // The child records its pid and outlives create by far: create returning while it is alive is the proof.
    const { bundle, logFile } = hookBundle(['true'], (spec, b) => {
      spec.hooks = { [kind]: [hook(b.script('bg.sh', logger('bg', 'sleep 120 &\necho $! > /HOOKLOG/bg.pid\necho going')))] };
    });
    const id = uniqueId('hk');
    await tsruncOk(['create', '--bundle', bundle.dir, id], { timeout: 60_000 });
    const bgPid = Number(readFileSync(join(logFile, '..', 'bg.pid'), 'utf8'));
    try {
      expect(readLog(logFile).map((l) => l.kind)).toEqual(['bg']);
      // createContainer's child lives in the container's pid namespace: its pid is not ours to check.
      if (kind === 'createRuntime') expect(alive(bgPid), 'the hook child still runs after create returned').toBe(true);
    } finally {
      if (kind === 'createRuntime') process.kill(bgPid, 'SIGKILL');
      await tsruncOk(['delete', '--force', id]);
    }
  });
});

export type { Bundle };

describe('hook processes', () => {
  it.each(['createRuntime', 'poststart'] as const)('a %s hook gets only stdin, stdout and stderr of ours (no other fd), default signals', async (kind: Kind) => {
    // ls lists its own directory fd (3) too; a shell -c opens nothing. The hook fails to show its output.
    const { bundle } = hookBundle(['sleep', '100'], (spec) => {
      spec.hooks = { [kind]: [{ ...hook('/bin/sh'), args: ['sh', '-c', 'echo fds $(ls /proc/self/fd); grep -E "^Sig(Blk|Ign)" /proc/self/status; exit 3'] }] };
    });
    const id = uniqueId('hk');
    try {
      let r = await tsrunc(['create', '--bundle', bundle.dir, id]);
      if (kind === 'poststart') {
        expect(r.code, r.stderr).toBe(0);
        r = await tsrunc(['start', id]);
      }
      expect(r.stderr).toContain(`hooks.${kind}[0]: exit status 3: fds 0 1 2 3`);
      expect(r.stderr).toMatch(/SigBlk:\s+0000000000000000/);
      expect(r.stderr).toMatch(/SigIgn:\s+0000000000000000/);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('a missing poststart hook (started without the stub) fails start naming its path and the cause', async () => {
    const { bundle } = hookBundle(['sleep', '100'], (spec) => {
      spec.hooks = { poststart: [hook('/nonexistent/hook')] };
    });
    const id = uniqueId('hk');
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      const r = await tsrunc(['start', id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/hooks\.poststart\[0\]: exec \/nonexistent\/hook: no such file or directory/);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('a hook that closes its output and runs on is waited for without spinning', async () => {
    // The hook itself measures create's CPU time (its parent's, in clock ticks) over a second of waiting.
    const { bundle, logFile } = hookBundle(['true'], (spec, b) => {
      const body = 'exec >&- 2>&-\nsleep 0.2\na=$(cut -d" " -f14,15 /proc/$PPID/stat)\nsleep 1\nb=$(cut -d" " -f14,15 /proc/$PPID/stat)\necho "$a $b" > /HOOKLOG/ticks';
      spec.hooks = { createRuntime: [hook(b.script('quiet.sh', body))] };
    });
    const id = uniqueId('hk');
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      const [u1, s1, u2, s2] = readFileSync(join(logFile, '..', 'ticks'), 'utf8').trim().split(' ').map(Number);
      expect(u2! + s2! - (u1! + s1!), 'CPU ticks (1/100 s) create burnt while the hook slept 1 s').toBeLessThan(10);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('a state larger than a pipe holds reaches the hook whole, and a hook that reads none of it is not held up', async () => {
    const big = 'x'.repeat(200_000);
    const { bundle, logFile } = hookBundle(['true'], (spec, b) => {
      spec.annotations = { ...spec.annotations, 'org.example.big': big };
      spec.hooks = { createRuntime: [hook('/bin/true'), hook(b.script('log.sh', logger('big')))] };
    });
    const id = uniqueId('hk');
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      expect(readLog(logFile)[0]!.state.annotations?.['org.example.big']).toBe(big);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});
