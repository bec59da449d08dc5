// runtime-spec 1.3.0 MUSTs that had no test (spec/requirements.json): each checked on what the container,
// the kernel or `state` shows.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  childEnv, hostDir, makeBundle, runContainer, sh, state, tsrunc, tsruncArgv, tsruncOk, uniqueId, waitForStatus, type Spec,
} from '../helpers';

const CGROUP2 = '/sys/fs/cgroup/unified';

/** The cgroup2 directory of a process, from /proc/<pid>/cgroup. */
function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!;
  return `${CGROUP2}${line.slice(3)}`;
}

describe('runtime.md', () => {
  it('state reports the bundle as an absolute path when create was given a relative one', async () => {
    const bundle = makeBundle({ args: ['true'] });
    const id = uniqueId('abs');
    try {
      await tsruncOk(['create', '--bundle', '.', id], { cwd: bundle.dir });
      const st = await state(id);
      expect(st.bundle).toBe(bundle.dir);
      expect(st.bundle.startsWith('/')).toBe(true);
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });

  it('editing config.json after create changes nothing: start runs what create read', async () => {
    const out = hostDir('frozen');
    const bundle = makeBundle({
      args: sh('echo "$(hostname) $MARK" > /out/seen'),
      mutate: (spec) => {
        spec.hostname = 'as-created';
        spec.process!.env!.push('MARK=original');
        spec.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      },
    });
    const id = uniqueId('frozen');
    try {
      await tsruncOk(['create', '--bundle', bundle.dir, id]);
      bundle.spec.hostname = 'edited';
      bundle.spec.process!.env = ['MARK=edited'];
      bundle.spec.process!.args = sh('echo edited > /out/seen');
      bundle.save();
      await tsruncOk(['start', id]);
      await waitForStatus(id, 'stopped');
      expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('as-created original\n');
    } finally {
      await tsrunc(['delete', '--force', id]);
    }
  });
});

describe('config.md', () => {
  it('mounts are made in the order of the array: a later mount on the same destination is on top', async () => {
    const src = hostDir('order');
    writeFileSync(join(src, 'marker'), 'bind\n');
    const bind = { destination: '/m', type: 'bind', source: src, options: ['rbind', 'ro'] };
    const tmpfs = { destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] };
    const look = sh('cat /m/marker 2>/dev/null || echo empty');
    const bindLast = await runContainer((spec) => void spec.mounts!.push(tmpfs, bind), look);
    expect(bindLast.stdout).toBe('bind\n');
    const tmpfsLast = await runContainer((spec) => void spec.mounts!.push(bind, tmpfs), look);
    expect(tmpfsLast.stdout).toBe('empty\n');
  });

  it('consoleSize has no effect without terminal: the process has no tty and runs', async () => {
    const r = await runContainer(
      (spec) => {
        spec.process!.terminal = false;
        spec.process!.consoleSize = { height: 7, width: 9 };
      },
      sh('test -t 0 || test -t 1 || echo no-tty'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('no-tty\n');
  });

  it('unknown properties are ignored, at the top level and inside known objects', async () => {
    const r = await runContainer((spec) => {
      const s = spec as Spec & Record<string, unknown>;
      s['org.example.unknown'] = { nested: [1, 2] };
      (s.process as unknown as Record<string, unknown>).futureField = true;
      (s.linux as unknown as Record<string, unknown>).futureLinuxField = 'x';
      (s.root as unknown as Record<string, unknown>).futureRootField = 1;
    }, sh('echo ran'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ran\n');
  });

  it('without oomScoreAdj the process keeps the oom_score_adj it inherited from the runtime', () => {
    const bundle = makeBundle({
      args: ['cat', '/proc/self/oom_score_adj'],
      mutate: (spec) => void delete (spec.process as { oomScoreAdj?: number }).oomScoreAdj,
    });
    // tsrunc starts with 123 (raising it needs no privilege); the container's process must show it.
    const r = spawnSync('sh', ['-c', 'echo 123 > /proc/self/oom_score_adj && exec "$0" "$@"', process.execPath, ...tsruncArgv(['run', '--bundle', bundle.dir, uniqueId('oom')])], {
      env: childEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('123\n');
  });
});

describe('config.md mounts', () => {
  it.each(['uidMappings', 'gidMappings'] as const)('a mount with only %s is refused, naming the field, and nothing is left', async (only) => {
    const src = hostDir('idmap');
    const id = uniqueId('idmap');
    const bundle = makeBundle({
      args: ['true'],
      mutate: (spec) => {
        spec.mounts!.push({ destination: '/idm', type: 'bind', source: src, options: ['rbind', 'idmap'], [only]: [{ containerID: 0, hostID: 100000, size: 65536 }] } as never);
      },
    });
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`mounts\\[\\d+\\]\\.${only === 'uidMappings' ? 'gidMappings' : 'uidMappings'}`));
    expect((await tsrunc(['state', id])).code).not.toBe(0);
  });
});

describe('config-linux.md', () => {
  it('seccomp listenerMetadata without listenerPath is an invalid config', async () => {
    const id = uniqueId('lmeta');
    const bundle = makeBundle({
      args: ['true'],
      mutate: (spec) => void (spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'orphan' } as never),
    });
    const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.seccomp\.listenerMetadata: .*listenerPath/);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
  });

  it('a device path that already holds a different file is an error naming the device', async () => {
    const src = join(hostDir('devconf'), 'file');
    writeFileSync(src, 'not a device\n');
    const r = await runContainer(
      (spec) => {
        spec.mounts!.push({ destination: '/dev/conflict', type: 'bind', source: src, options: ['bind'] });
        spec.linux!.devices = [{ path: '/dev/conflict', type: 'c', major: 1, minor: 3 }];
      },
      ['true'],
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.devices\[0\]/);
    expect(readFileSync(src, 'utf8')).toBe('not a device\n');
  });

  it('an absolute cgroupsPath is relative to the cgroup2 mount, and the same path is the same cgroup', async () => {
    const cgPath = `/tsrunc-conf-${uniqueId('cg')}`;
    const bundle = makeBundle({ args: ['sleep', '100'], mutate: (spec) => void (spec.linux!.cgroupsPath = cgPath) });
    const seen: string[] = [];
    for (const id of [uniqueId('cg'), uniqueId('cg')]) {
      try {
        await tsruncOk(['run', '-d', '--bundle', bundle.dir, id]);
        const { pid } = await state(id);
        seen.push(cgroupOf(pid!));
      } finally {
        await tsrunc(['delete', '--force', id]);
      }
    }
    expect(seen).toEqual([`${CGROUP2}${cgPath}`, `${CGROUP2}${cgPath}`]);
    expect(existsSync(`${CGROUP2}${cgPath}`)).toBe(false);
  });
});
