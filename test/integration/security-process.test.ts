// Process attributes as the container's process sees them: rlimits, no_new_privs, oom_score_adj, umask,
// scheduler, I/O priority, personality, CPU affinity, and refusals for LSMs this host lacks.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle, runContainer, tsrunc, uniqueId, type Spec } from '../helpers';

async function ok(mutate: (spec: Spec) => void, cmd: string[]): Promise<string> {
  const r = await runContainer(mutate, cmd);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** `create` of a bundle that must be refused; returns tsrunc's stderr and checks nothing was left. */
async function createFails(mutate: (spec: Spec) => void): Promise<string> {
  const bundle = makeBundle({ args: ['true'], mutate });
  const id = uniqueId('proc');
  const r = await tsrunc(['create', '--bundle', bundle.dir, id]);
  expect(r.code).not.toBe(0);
  expect((await tsrunc(['state', id])).code).not.toBe(0);
  bundle.remove();
  return r.stderr;
}

describe('rlimits', () => {
  // This host withholds CAP_SYS_RESOURCE from root: only limits at or below the host's hard ones can be set.
  it('sets several RLIMIT_* soft and hard values', async () => {
    const out = await ok(
      (spec) => {
        spec.process!.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 123, hard: 456 },
          { type: 'RLIMIT_NPROC', soft: 77, hard: 88 },
          { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
          { type: 'RLIMIT_STACK', soft: 4 * 1024 * 1024, hard: 8 * 1024 * 1024 },
          { type: 'RLIMIT_MSGQUEUE', soft: 1000, hard: 2000 },
        ];
      },
      ['cat', '/proc/self/limits'],
    );
    const row = (name: string) => out.split('\n').find((l) => l.startsWith(name))!.slice(26).trim().split(/\s+/);
    expect(row('Max open files').slice(0, 2)).toEqual(['123', '456']);
    expect(row('Max processes').slice(0, 2)).toEqual(['77', '88']);
    expect(row('Max core file size').slice(0, 2)).toEqual(['0', '4096']);
    expect(row('Max stack size').slice(0, 2)).toEqual([String(4 * 1024 * 1024), String(8 * 1024 * 1024)]);
    expect(row('Max msgqueue size').slice(0, 2)).toEqual(['1000', '2000']);
  });

  it('ulimit in the container agrees', async () => {
    const out = await ok((spec) => {
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
    }, ['sh', '-c', 'ulimit -n; ulimit -Hn']);
    expect(out.split('\n').slice(0, 2)).toEqual(['321', '654']);
  });

  it('an unknown rlimit type is a create error naming the JSON path', async () => {
    const err = await createFails((spec) => {
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_FOO', soft: 1, hard: 1 }];
    });
    expect(err).toContain('process.rlimits[1]');
    expect(err).toContain('RLIMIT_FOO');
  });
});

describe('process attributes', () => {
  it('noNewPrivileges on and off', async () => {
    for (const nnp of [true, false]) {
      const out = await ok((spec) => {
        spec.process!.noNewPrivileges = nnp;
      }, ['grep', 'NoNewPrivs', '/proc/self/status']);
      expect(out).toMatch(new RegExp(`NoNewPrivs:\\s+${nnp ? 1 : 0}`));
    }
  });

  it('oomScoreAdj', async () => {
    // Lowering it needs CAP_SYS_RESOURCE, which this host withholds even from root.
    for (const v of [0, 500, 777]) {
      const out = await ok((spec) => {
        spec.process!.oomScoreAdj = v;
      }, ['cat', '/proc/self/oom_score_adj']);
      expect(out.trim()).toBe(String(v));
    }
  });

  it('user.umask applies to the process and the files it creates', async () => {
    const out = await ok((spec) => {
      spec.process!.user.umask = 0o027;
      spec.root!.readonly = false;
    }, ['sh', '-c', 'umask; touch /tmp/f; stat -c %a /tmp/f']);
    expect(out.split('\n').slice(0, 2)).toEqual(['0027', '640']);
  });

  it('scheduler: SCHED_BATCH with a nice value', async () => {
    const out = await ok((spec) => {
      spec.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    }, ['cat', '/proc/self/sched', '/proc/self/stat']);
    expect(out).toMatch(/^policy\s+:\s+3$/m);
    // Field 19 of /proc/<pid>/stat is the nice value.
    const stat = out.trim().split('\n').at(-1)!;
    expect(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]).toBe('7');
  });

  it('scheduler: SCHED_FIFO with a priority, seen in /proc/1/sched of the init', async () => {
    const bundle = makeBundle({
      args: ['sleep', '30'],
      mutate: (spec) => {
        spec.process!.scheduler = { policy: 'SCHED_FIFO', priority: 3 };
      },
    });
    const id = uniqueId('sched');
    try {
      expect((await tsrunc(['create', '--bundle', bundle.dir, id])).code).toBe(0);
      const r = await tsrunc(['exec', id, 'cat', '/proc/1/sched']);
      expect(r.stdout).toMatch(/^policy\s+:\s+1$/m);
      expect(r.stdout).toMatch(/^prio\s+:\s+96$/m); // 99 - rt_priority
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('ioPriority: class and level', async () => {
    // ioprio_get(IOPRIO_WHO_PROCESS, 0) is not reachable from busybox: read the init's through the host.
    const bundle = makeBundle({
      args: ['sleep', '30'],
      mutate: (spec) => {
        spec.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
      },
    });
    const id = uniqueId('io');
    try {
      const c = await tsrunc(['create', '--bundle', bundle.dir, id]);
      expect(c.stderr).toBe('');
      const pid = JSON.parse((await tsrunc(['state', id])).stdout).pid as number;
      const { execFileSync } = await import('node:child_process');
      const out = execFileSync('ionice', ['-p', String(pid)], { encoding: 'utf8' });
      expect(out.trim()).toBe('best-effort: prio 6');
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('personality LINUX32: uname -m shows i686', async () => {
    const out = await ok((spec) => {
      spec.linux!.personality = { domain: 'LINUX32' };
    }, ['uname', '-m']);
    expect(out.trim()).toBe('i686');
    const plain = await ok(() => undefined, ['uname', '-m']);
    expect(plain.trim()).toBe('x86_64');
  });

  it('execCPUAffinity applies to exec, not to the init', async () => {
    const bundle = makeBundle({ args: ['sleep', '30'] });
    const id = uniqueId('aff');
    try {
      expect((await tsrunc(['create', '--bundle', bundle.dir, id])).code).toBe(0);
      const proc = { ...bundle.spec.process!, args: ['grep', 'Cpus_allowed_list', '/proc/self/status', '/proc/1/status'], execCPUAffinity: { initial: '0', final: '0' } };
      const file = join(bundle.dir, 'process.json');
      writeFileSync(file, JSON.stringify(proc));
      const r = await tsrunc(['exec', '--process', file, id]);
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/\/proc\/self\/status:Cpus_allowed_list:\s+0$/);
      expect(lines[1]).not.toMatch(/:\s+0$/);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  });

  it('features agrees with the host on AppArmor; a profile the host cannot load is refused at create', async () => {
    // The kernel's answer: the module parameter (absent when AppArmor is not built in).
    const hostAppArmor = existsSync('/sys/module/apparmor/parameters/enabled') && readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    const f = JSON.parse((await tsrunc(['features'])).stdout);
    expect(f.linux.apparmor).toEqual({ enabled: hostAppArmor });
    // Without AppArmor any profile is refused; with it, one that is not loaded is refused too.
    expect(await createFails((spec) => void (spec.process!.apparmorProfile = 'tsrunc-test-no-such-profile'))).toContain('process.apparmorProfile');
  });

  it('selinuxLabel is refused at create; features agrees with the host (no SELinux here)', async () => {
    const hostSelinux = existsSync('/sys/fs/selinux/enforce');
    const f = JSON.parse((await tsrunc(['features'])).stdout);
    expect(f.linux.selinux).toEqual({ enabled: hostSelinux });
    expect(await createFails((spec) => void (spec.process!.selinuxLabel = 'system_u:system_r:container_t:s0'))).toContain('process.selinuxLabel');
  });
});
