import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/runtime/config/validate';
import { ConfigError } from '../../../src/runtime/errors';
import type { Spec } from '../../../src/runtime/config/types';

/** A config using most of the spec, all valid. */
function fullConfig(): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs', readonly: true },
    process: {
      terminal: false,
      consoleSize: { height: 24, width: 80 },
      user: { uid: 1000, gid: 1000, umask: 0o22, additionalGids: [5, 10] },
      args: ['sh', '-c', 'true'],
      env: ['PATH=/bin', 'EMPTY=', 'A=b=c'],
      cwd: '/home',
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'],
        effective: ['CAP_KILL'],
        inheritable: [],
        permitted: ['CAP_KILL'],
        ambient: [],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      ],
      noNewPrivileges: true,
      oomScoreAdj: -1000,
      scheduler: { policy: 'SCHED_OTHER', nice: 5 },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
      execCPUAffinity: { initial: '0', final: '0-1' },
      apparmorProfile: 'x',
      selinuxLabel: 'y',
    },
    hostname: 'box',
    domainname: 'example.org',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro', 'nosuid'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup', options: ['ro', 'relatime'] },
      { destination: '/etc-host', type: 'bind', source: '/etc', options: ['rbind', 'rro', 'rprivate'] },
      { destination: '/etc-host2', type: 'none', source: '/etc', options: ['bind', 'ro'] },
      { destination: '/etc-host3', source: '/etc', options: ['rbind'] },
    ],
    hooks: {
      prestart: [{ path: '/bin/true' }],
      createRuntime: [{ path: '/bin/true', args: ['true'], env: ['A=B'], timeout: 5 }],
      createContainer: [],
      startContainer: [],
      poststart: [],
      poststop: [{ path: '/bin/true' }],
    },
    annotations: { 'org.example.key': 'value' },
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'cgroup' },
        { type: 'user' },
        { type: 'time' },
      ],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      timeOffsets: { monotonic: { secs: 100, nanosecs: 5 }, boottime: { secs: -1 } },
      devices: [
        { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
        { type: 'p', path: '/dev/fifo' },
      ],
      cgroupsPath: '/tsrunc/test',
      resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 100 } },
      sysctl: {
        'net.ipv4.ip_forward': '1',
        'kernel.shmmax': '1000000',
        'fs.mqueue.msg_max': '10',
        'kernel.domainname': 'x',
      },
      rootfsPropagation: 'rslave',
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mountLabel: '',
      personality: { domain: 'LINUX' },
    },
  };
}

// A spec as loose JSON for the cases that break its types.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function expectError(mutate: (s: Json) => void, where: string, message?: RegExp): void {
  const spec = fullConfig() as Json;
  mutate(spec);
  let err: unknown;
  try {
    validateConfig(spec);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ConfigError at ${where}`).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).where).toBe(where);
  expect((err as ConfigError).message.startsWith(`${where}: `)).toBe(true);
  if (message) expect((err as ConfigError).message).toMatch(message);
}

function expectValid(mutate: (s: Json) => void): void {
  const spec = fullConfig() as Json;
  mutate(spec);
  expect(() => validateConfig(spec)).not.toThrow();
}

describe('validateConfig', () => {
  it('accepts a full valid config', () => {
    expect(() => validateConfig(fullConfig())).not.toThrow();
  });

  describe('ociVersion', () => {
    it.each(['1.0.0', '1.0.2-dev', '1.1.0-rc.1', '1.2.1', '1.3.0', '1.3.0+dev'])('accepts %s', (v) =>
      expectValid((s) => (s.ociVersion = v)),
    );
    it('missing', () => expectError((s) => delete s.ociVersion, 'ociVersion', /missing/));
    it.each(['2.0.0', '0.9.0', '1.0', 'latest', '1.4.0'])('rejects %s', (v) =>
      expectError((s) => (s.ociVersion = v), 'ociVersion'),
    );
    it('not a string', () => expectError((s) => (s.ociVersion = 1), 'ociVersion'));
  });

  describe('process', () => {
    it('missing', () => expectError((s) => delete s.process, 'process', /missing/));
    it('missing is fine when not required', () => {
      const spec = fullConfig();
      delete spec.process;
      expect(() => validateConfig(spec, { requireProcess: false })).not.toThrow();
    });
    it('empty args', () => expectError((s) => (s.process.args = []), 'process.args'));
    it('no args', () => expectError((s) => delete s.process.args, 'process.args'));
    it('empty args[0]', () => expectError((s) => (s.process.args = ['']), 'process.args[0]'));
    it('non-string arg', () => expectError((s) => (s.process.args = ['sh', 1]), 'process.args[1]'));
    it('relative cwd', () => expectError((s) => (s.process.cwd = 'home'), 'process.cwd', /absolute/));
    it('missing cwd', () => expectError((s) => delete s.process.cwd, 'process.cwd'));
    it('env without =', () => expectError((s) => s.process.env.push('NOEQUALS'), 'process.env[3]', /KEY=VALUE/));
    it('env with empty key', () => expectError((s) => (s.process.env = ['=x']), 'process.env[0]'));
    it('user missing', () => expectError((s) => delete s.process.user, 'process.user'));
    it('uid negative', () => expectError((s) => (s.process.user.uid = -1), 'process.user.uid'));
    it('gid not a number', () => expectError((s) => (s.process.user.gid = '0'), 'process.user.gid'));
    it('gid too big', () => expectError((s) => (s.process.user.gid = 2 ** 32 - 1), 'process.user.gid'));
    it('additional gid', () => expectError((s) => (s.process.user.additionalGids = [1, 1.5]), 'process.user.additionalGids[1]'));
    it('umask', () => expectError((s) => (s.process.user.umask = 0o1000), 'process.user.umask'));
    it('oomScoreAdj too small', () => expectError((s) => (s.process.oomScoreAdj = -1001), 'process.oomScoreAdj'));
    it('oomScoreAdj too big', () => expectError((s) => (s.process.oomScoreAdj = 1001), 'process.oomScoreAdj'));
    // config.md: names that cannot be mapped are warnings at plan time, not config errors (issue 9).
    it('unknown capability is accepted', () => expectValid((s) => s.process.capabilities.effective.push('CAP_FLY')));
    it('lower-case capability is accepted', () => expectValid((s) => (s.process.capabilities.ambient = ['cap_kill'])));
    it('capability not a string', () => expectError((s) => (s.process.capabilities.ambient = [5]), 'process.capabilities.ambient[0]'));
    it('unknown rlimit', () => expectError((s) => (s.process.rlimits[1].type = 'RLIMIT_FOO'), 'process.rlimits[1].type'));
    it('duplicate rlimit', () => expectError((s) => (s.process.rlimits[1].type = 'RLIMIT_NOFILE'), 'process.rlimits[1].type', /duplicate/));
    it('soft > hard', () => expectError((s) => (s.process.rlimits[0].soft = 5000), 'process.rlimits[0].soft', /exceeds/));
    it('unlimited rlimit', () => expectValid((s) => (s.process.rlimits[1] = { type: 'RLIMIT_CORE', soft: 2 ** 64 - 1, hard: 2 ** 64 - 1 })));
    it('ioPriority class', () => expectError((s) => (s.process.ioPriority.class = 'X'), 'process.ioPriority.class'));
    it('ioPriority priority', () => expectError((s) => (s.process.ioPriority.priority = 8), 'process.ioPriority.priority'));
    it('ioPriority idle without priority', () => expectValid((s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' })));
    it('ioPriority best-effort without priority', () =>
      expectError((s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE' }), 'process.ioPriority.priority'));
    it('scheduler policy', () => expectError((s) => (s.process.scheduler.policy = 'SCHED_X'), 'process.scheduler.policy'));
    it('terminal type', () => expectError((s) => (s.process.terminal = 'yes'), 'process.terminal'));
  });

  describe('hostname and domainname', () => {
    it('hostname without uts namespace', () =>
      expectError((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'uts')), 'hostname', /uts/));
    // The joined namespace is the container's: runc sets the name there (issue 9).
    it('hostname with a joined uts namespace', () =>
      expectValid((s) => (s.linux.namespaces.find((n: Json) => n.type === 'uts').path = '/proc/1/ns/uts')));
    it('domainname without uts namespace', () =>
      expectError((s) => {
        delete s.hostname;
        delete s.linux.sysctl['kernel.domainname'];
        s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'uts');
      }, 'domainname'));
    it('hostname too long', () => expectError((s) => (s.hostname = 'a'.repeat(65)), 'hostname', /64/));
    it('hostname of 64 bytes', () => expectValid((s) => (s.hostname = 'a'.repeat(64))));
    it('domainname too long', () => expectError((s) => (s.domainname = 'a'.repeat(65)), 'domainname'));
    it('empty hostname needs no uts namespace', () =>
      expectValid((s) => {
        s.hostname = '';
        delete s.domainname;
        delete s.linux.sysctl['kernel.domainname'];
        s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'uts');
      }));
  });

  describe('namespaces', () => {
    it('unknown type', () => expectError((s) => s.linux.namespaces.push({ type: 'foo' }), 'linux.namespaces[8].type', /foo/));
    it('duplicate', () => expectError((s) => s.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[8].type', /duplicate/));
    it('relative path', () => expectError((s) => (s.linux.namespaces[0].path = 'proc/1/ns/pid'), 'linux.namespaces[0].path'));
    it('absolute path', () => expectValid((s) => (s.linux.namespaces[0].path = '/proc/1/ns/pid')));
  });

  describe('id mappings', () => {
    it('size 0', () => expectError((s) => (s.linux.uidMappings[0].size = 0), 'linux.uidMappings[0].size'));
    it('negative hostID', () => expectError((s) => (s.linux.gidMappings[0].hostID = -1), 'linux.gidMappings[0].hostID'));
    it('overlap', () =>
      expectError((s) => s.linux.uidMappings.push({ containerID: 10, hostID: 0, size: 1 }), 'linux.uidMappings[1].containerID', /overlap/));
    it('new user namespace without uid mappings', () => expectError((s) => delete s.linux.uidMappings, 'linux.uidMappings'));
    it('new user namespace without gid mappings', () => expectError((s) => (s.linux.gidMappings = []), 'linux.gidMappings'));
    it('mappings without a user namespace', () =>
      expectError((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'user')), 'linux.uidMappings'));
  });

  describe('timeOffsets', () => {
    it('without a time namespace', () =>
      expectError((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'time')), 'linux.timeOffsets', /time namespace/));
    it('unknown clock', () => expectError((s) => (s.linux.timeOffsets.realtime = { secs: 1 }), 'linux.timeOffsets.realtime'));
    it('nanosecs out of range', () =>
      expectError((s) => (s.linux.timeOffsets.boottime.nanosecs = 1e9), 'linux.timeOffsets.boottime.nanosecs'));
  });

  describe('mounts', () => {
    it('empty destination', () => expectError((s) => (s.mounts[0].destination = ''), 'mounts[0].destination', /empty/));
    it('missing destination', () => expectError((s) => delete s.mounts[1].destination, 'mounts[1].destination'));
    it('unknown type', () => expectError((s) => (s.mounts[1].type = 'nosuchfs'), 'mounts[1].type', /nosuchfs/));
    it('missing type', () => expectError((s) => delete s.mounts[1].type, 'mounts[1].type'));
    it('type none without bind', () => expectError((s) => (s.mounts[6].options = ['ro']), 'mounts[6].type'));
    it('bind source missing', () => expectError((s) => delete s.mounts[5].source, 'mounts[5].source'));
    it('bind source does not exist', () =>
      expectError((s) => (s.mounts[5].source = '/no/such/dir/here'), 'mounts[5].source', /does not exist/));
    it('filesystem data on a bind mount is accepted (runc passes it to mount(2), which ignores it)', () =>
      expectValid((s) => s.mounts[5].options.push('mode=755')));
    it('unknown option on tmpfs is data', () => expectValid((s) => s.mounts[1].options.push('nr_inodes=100')));
    it('tmpcopyup is unsupported', () => expectError((s) => s.mounts[1].options.push('tmpcopyup'), 'mounts[1].options[4]', /tmpcopyup/));
    it('option not a string', () => expectError((s) => (s.mounts[1].options = [1]), 'mounts[1].options[0]'));
    it('idmapped bind mount', () =>
      expectValid((s) => {
        s.mounts[5].options.push('idmap');
        s.mounts[5].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
        s.mounts[5].gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      }));
    it('mount uidMappings without gidMappings', () =>
      expectError((s) => (s.mounts[5].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'mounts[5].gidMappings', /both/));
    it('mount mapping size 0', () =>
      expectError((s) => {
        s.mounts[5].uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
        s.mounts[5].gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      }, 'mounts[5].uidMappings[0].size'));
  });

  describe('devices', () => {
    it('unknown type', () => expectError((s) => (s.linux.devices[0].type = 'x'), 'linux.devices[0].type'));
    it('relative path', () => expectError((s) => (s.linux.devices[0].path = 'dev/fuse'), 'linux.devices[0].path'));
    it('path anywhere in the container, trailing slash allowed (config-linux.md)', () =>
      expectValid((s) => {
        s.linux.devices[0].path = '/etc/fuse';
        s.linux.devices[1].path = '/dev/fifo/';
      }));
    it('the root is no device path', () => expectError((s) => (s.linux.devices[0].path = '/dev/..'), 'linux.devices[0].path'));
    it('duplicate after normalising', () => expectError((s) => (s.linux.devices[1].path = '/dev//fuse/'), 'linux.devices[1].path', /duplicate/));
    it('missing major', () => expectError((s) => delete s.linux.devices[0].major, 'linux.devices[0].major'));
    it('missing minor', () => expectError((s) => delete s.linux.devices[0].minor, 'linux.devices[0].minor'));
    it('fileMode', () => expectError((s) => (s.linux.devices[0].fileMode = 0o10000), 'linux.devices[0].fileMode'));
    it('duplicate', () => expectError((s) => (s.linux.devices[1].path = '/dev/fuse'), 'linux.devices[1].path', /duplicate/));
  });

  describe('sysctl', () => {
    it('not namespaced', () =>
      expectError((s) => (s.linux.sysctl['kernel.panic'] = '1'), 'linux.sysctl["kernel.panic"]', /not namespaced/));
    it('dot-dot', () => expectError((s) => (s.linux.sysctl['net/../kernel.panic'] = '1'), 'linux.sysctl["net/../kernel.panic"]'));
    it('net without network namespace', () =>
      expectError((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'network')), 'linux.sysctl["net.ipv4.ip_forward"]', /network/));
    it('ipc without ipc namespace', () =>
      expectError((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'ipc')), 'linux.sysctl["kernel.shmmax"]', /ipc/));
    it('kernel.domainname without uts namespace', () =>
      expectError((s) => {
        delete s.hostname;
        delete s.domainname;
        s.linux.namespaces = s.linux.namespaces.filter((n: Json) => n.type !== 'uts');
      }, 'linux.sysctl["kernel.domainname"]', /uts/));
    it('kernel.hostname is refused in favour of the hostname field (runc)', () =>
      expectError((s) => (s.linux.sysctl['kernel.hostname'] = 'x'), 'linux.sysctl["kernel.hostname"]', /hostname/));
    it('value not a string', () => expectError((s) => (s.linux.sysctl['kernel.sem'] = 1), 'linux.sysctl["kernel.sem"]'));
    it('slash separators', () => expectValid((s) => (s.linux.sysctl['net/ipv4/ping_group_range'] = '0 0')));
  });

  describe('other linux fields', () => {
    it('relative masked path', () => expectError((s) => s.linux.maskedPaths.push('proc/x'), 'linux.maskedPaths[1]'));
    it('relative readonly path', () => expectError((s) => (s.linux.readonlyPaths = ['x']), 'linux.readonlyPaths[0]'));
    it('cgroupsPath with ..', () => expectError((s) => (s.linux.cgroupsPath = '/a/../../b'), 'linux.cgroupsPath'));
    it('relative cgroupsPath', () => expectValid((s) => (s.linux.cgroupsPath = 'a/b')));
    it('rootfsPropagation', () => expectError((s) => (s.linux.rootfsPropagation = 'sharedd'), 'linux.rootfsPropagation'));
    it.each(['shared', 'slave', 'private', 'unbindable', 'rshared', 'rprivate', 'runbindable'])('rootfsPropagation %s', (p) =>
      expectValid((s) => (s.linux.rootfsPropagation = p)),
    );
    it('personality', () => expectError((s) => (s.linux.personality.domain = 'BSD'), 'linux.personality.domain'));
    it('linux not an object', () => expectError((s) => (s.linux = []), 'linux'));
  });

  describe('hooks and annotations', () => {
    it('relative hook path', () => expectError((s) => (s.hooks.poststop[0].path = 'true'), 'hooks.poststop[0].path'));
    it('zero timeout', () => expectError((s) => (s.hooks.createRuntime[0].timeout = 0), 'hooks.createRuntime[0].timeout'));
    it('unknown hook kind', () => expectError((s) => (s.hooks.prestop = []), 'hooks.prestop'));
    it('annotation value not a string', () => expectError((s) => (s.annotations.n = 1), 'annotations["n"]'));
    it('root.path not a string', () => expectError((s) => (s.root.path = 1), 'root.path'));
  });
});
