// `tsrunc exec` basics: exit code, stdio, the container's namespaces/cgroup/rootfs, the config's env, cwd,
// capabilities. Its flags (and every namespace, user and time included) are in exec-more.test.ts.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, tsrunc, tsruncOk, uniqueId, waitForStatus } from '../helpers';

let id = '';

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
});

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

  it('the exec process gets the config capabilities and no_new_privs', async () => {
    const out = await execOk([id, 'grep', '-E', '^(CapBnd|CapEff|NoNewPrivs):', '/proc/self/status']);
    expect(out).toMatch(/CapEff:\s+0000000020000420/);
    expect(out).toMatch(/CapBnd:\s+0000000020000420/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
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
    expect(r.stderr).toMatch(/^tsrunc: exec: .*stopped/m);
    await tsruncOk(['delete', stopped]);
    expect(existsSync(bundle.dir)).toBe(true);
  });
});
