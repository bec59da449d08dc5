// `tsrunc exec`: a new process in a running container, seen from inside (namespaces, cgroup, user, env, cwd).
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, runId, state, tsrunc, tsruncOk, uniqueId, waitForStatus } from '../helpers';
import { removeTree } from '../helpers/fs';

const NS = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'time'];

let id = '';
let initPid = 0;
const dirs: string[] = [];

beforeAll(async () => {
  const bundle = makeBundle({
    args: ['sleep', '100000'],
    mutate: (s) => {
      s.hostname = 'exec-box';
      s.process!.env = ['PATH=/bin', 'FROM_CONFIG=yes'];
      s.process!.cwd = '/home';
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { monotonic: { secs: 1000, nanosecs: 0 } };
    },
  });
  id = uniqueId('exec');
  await tsruncOk(['create', '--bundle', bundle.dir, id]);
  await tsruncOk(['start', id]);
  initPid = (await state(id)).pid!;
});

// The container itself goes with the helpers' cleanup (a tsrunc call here could run after it and remake the root).
afterAll(() => {
  for (const d of dirs) removeTree(d);
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), `tsrunc-test-${runId()}-exec-`));
  dirs.push(d);
  return d;
}

async function execOk(args: string[], input?: string): Promise<string> {
  const r = await tsrunc(['exec', ...args], { input });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('exec', () => {
  it('exits with the process exit code', async () => {
    expect((await tsrunc(['exec', id, 'sh', '-c', 'exit 5'])).code).toBe(5);
    expect((await tsrunc(['exec', id, 'true'])).code).toBe(0);
  });

  it('passes stdin, stdout and stderr through', async () => {
    const r = await tsrunc(['exec', id, 'sh', '-c', 'read x; echo "in:$x"; echo oops >&2'], { input: 'hello\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('in:hello\n');
    expect(r.stderr).toBe('oops\n');
  });

  it('joins every namespace of the init', async () => {
    const out = await execOk([id, 'sh', '-c', `for n in ${NS.join(' ')}; do readlink /proc/self/ns/$n; done`]);
    const seen = out.trim().split('\n');
    expect(seen).toEqual(NS.map((n) => readlinkSync(`/proc/${initPid}/ns/${n}`)));
    // And they are not the host's (the pid one shows through /proc/self/ns/pid of the process itself).
    expect(seen[0]).not.toBe(readlinkSync('/proc/self/ns/pid'));
  });

  it('runs in the container pid namespace, cgroup, rootfs and uts', async () => {
    const out = await execOk([id, 'sh', '-c', 'echo $$; tr "\\0" " " < /proc/1/cmdline; echo; grep "^0::" /proc/self/cgroup; hostname; cat /proc/self/timens_offsets | grep monotonic']);
    const [pid, init, cgroup, host, offsets] = out.trim().split('\n');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(init.trim()).toBe('sleep 100000');
    expect(cgroup).toBe('0::/');
    expect(host).toBe('exec-box');
    expect(offsets.trim().split(/\s+/)).toEqual(['monotonic', '1000', '0']);
  });

  it('default env and cwd are the config ones; -e and --cwd override', async () => {
    const out = await execOk([id, 'sh', '-c', 'pwd; echo "$FROM_CONFIG"']);
    expect(out).toBe('/home\nyes\n');
    const over = await execOk(['-e', 'EXTRA=1', '-e', 'FROM_CONFIG=changed', '--cwd', '/tmp', id, 'sh', '-c', 'pwd; echo "$FROM_CONFIG $EXTRA"']);
    expect(over).toBe('/tmp\nchanged 1\n');
  });

  it('--user and --additional-gids', async () => {
    const out = await execOk(['-u', '1000:1000', '-g', '5', id, 'sh', '-c', 'id -u; id -g; grep ^Groups: /proc/self/status']);
    const [uid, gid, groups] = out.trim().split('\n');
    expect(uid).toBe('1000');
    expect(gid).toBe('1000');
    expect(groups.replace('Groups:', '').trim()).toBe('5');
  });

  it('the exec process gets the config capabilities and no_new_privs', async () => {
    const out = await execOk([id, 'grep', '-E', '^(CapBnd|CapEff|NoNewPrivs):', '/proc/self/status']);
    expect(out).toMatch(/CapEff:\s+0000000020000420/);
    expect(out).toMatch(/CapBnd:\s+0000000020000420/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
  });

  it('-p process.json runs that process', async () => {
    const f = join(tempDir(), 'process.json');
    writeFileSync(
      f,
      JSON.stringify({ args: ['sh', '-c', 'echo "$X $(pwd) $(id -u)"'], env: ['PATH=/bin', 'X=from-json'], cwd: '/etc', user: { uid: 65534, gid: 65534 } }),
    );
    expect(await execOk(['-p', f, id])).toBe('from-json /etc 65534\n');
  });

  it('-d --pid-file: returns while the process runs; the pid is in the container', async () => {
    const pidFile = join(tempDir(), 'pid');
    await execOk(['-d', '--pid-file', pidFile, id, 'sleep', '100000']);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(pid).toBeGreaterThan(0);
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${initPid}/ns/pid`));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x00100000\x00');
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(readFileSync(`/proc/${initPid}/cgroup`, 'utf8'));
    process.kill(pid, 'SIGKILL');
  });

  it('a missing program fails with a message naming it', async () => {
    const r = await tsrunc(['exec', id, 'no-such-program']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-program/);
  });

  it('exec into an unknown or stopped container fails', async () => {
    expect((await tsrunc(['exec', 'no-such-container', 'true'])).code).not.toBe(0);
    const bundle = makeBundle({ args: ['true'] });
    const stopped = uniqueId('stopped');
    await tsruncOk(['create', '--bundle', bundle.dir, stopped]);
    await tsruncOk(['start', stopped]);
    await waitForStatus(stopped, 'stopped');
    const r = await tsrunc(['exec', stopped, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/stopped|not running/);
    await tsruncOk(['delete', stopped]);
    expect(existsSync(bundle.dir)).toBe(true);
  });
});
