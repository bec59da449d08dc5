// Bad input: a one-line error naming the problem (the JSON path for config errors), a non-zero exit, and
// nothing left behind: no state dir, cgroup, mount or process.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerCgroupDir, expectNothingLeft, hostSnapshot, makeBundle, readMountinfo, state, testRoot, tsrunc, tsruncOk, uniqueId, type Bundle, type Spec, type TsruncResult } from '../helpers';

/** One line on stderr, non-zero exit, matching `msg`. */
function expectOneLineError(r: TsruncResult, msg: RegExp): void {
  expect(r.timedOut).toBe(false);
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.code).not.toBeNull();
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(msg);
}

/** `tsrunc <command> --bundle B ID` of a bundle made by `mutate`/`prepare` must fail cleanly with `msg`. */
async function expectCleanFailure(
  opts: { mutate?: (s: Spec) => void; prepare?: (b: Bundle) => void; args?: string[]; command?: 'create' | 'run' },
  msg: RegExp,
): Promise<TsruncResult> {
  const bundle = makeBundle({ args: opts.args ?? ['true'], mutate: opts.mutate });
  opts.prepare?.(bundle);
  const id = uniqueId('err');
  const before = hostSnapshot();
  const r = await tsrunc([opts.command ?? 'create', '--bundle', bundle.dir, id]);
  expectOneLineError(r, msg);
  expectNothingLeft(before, id, { bundleDir: bundle.dir });
  expect((await tsrunc(['state', id])).code).not.toBe(0);
  bundle.remove();
  return r;
}

describe('bad bundles', () => {
  it('malformed JSON', async () => {
    await expectCleanFailure({ prepare: (b) => writeFileSync(b.configPath, '{ "ociVersion": "1.3.0", "process": ') }, /config\.json/);
  });

  it('config.json is not an object', async () => {
    await expectCleanFailure({ prepare: (b) => writeFileSync(b.configPath, '[1, 2]') }, /config\.json|object/);
  });

  it('missing root', async () => {
    await expectCleanFailure({ mutate: (s) => void delete s.root }, /\broot\b/);
  });

  it('missing rootfs directory', async () => {
    await expectCleanFailure({ prepare: (b) => rmSync(b.rootfs, { recursive: true, force: true }) }, /root\.path.*(no such file|not exist|missing)/i);
  });

  it('missing bundle directory', async () => {
    const id = uniqueId('err');
    const before = hostSnapshot();
    const dir = `/nonexistent-bundle-${randomBytes(3).toString('hex')}`;
    const r = await tsrunc(['create', '--bundle', dir, id]);
    expectOneLineError(r, new RegExp(dir));
    expectNothingLeft(before, id);
  });

  it('missing config.json', async () => {
    await expectCleanFailure({ prepare: (b) => rmSync(b.configPath) }, /config\.json/);
  });

  it('unknown namespace type', async () => {
    await expectCleanFailure(
      { mutate: (s) => void s.linux!.namespaces!.push({ type: 'foo' as 'pid' }) },
      /linux\.namespaces\[6\]\.type.*foo/,
    );
  });

  it('empty process.args', async () => {
    await expectCleanFailure({ mutate: (s) => void (s.process!.args = []) }, /process\.args/);
  });

  it('missing executable (absolute path): run fails, nothing left', async () => {
    await expectCleanFailure({ args: ['/no/such/program'], command: 'run' }, /\/no\/such\/program/);
  });

  it('missing executable (PATH lookup): run fails, nothing left', async () => {
    await expectCleanFailure({ args: ['no-such-program-xyz'], command: 'run' }, /no-such-program-xyz/);
  });

  it('a non-executable program: run fails, nothing left', async () => {
    await expectCleanFailure({ args: ['/etc/passwd'], command: 'run' }, /\/etc\/passwd.*permission denied|permission denied.*\/etc\/passwd/i);
  });

  it('unknown mount type', async () => {
    await expectCleanFailure(
      { mutate: (s) => void s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' }) },
      /mounts\[7\].*nosuchfs/,
    );
  });

  it('missing bind source', async () => {
    await expectCleanFailure(
      { mutate: (s) => void s.mounts!.push({ destination: '/x', type: 'bind', source: '/nonexistent/source', options: ['rbind'] }) },
      /mounts\[7\].*\/nonexistent\/source/,
    );
  });

  it('a mount failing late (after several mounts succeeded) leaves none of them', async () => {
    await expectCleanFailure(
      {
        mutate: (s) => {
          s.mounts!.push({ destination: '/a', type: 'tmpfs', source: 'tmpfs' });
          s.mounts!.push({ destination: '/b', type: 'bind', source: '/nonexistent/late', options: ['bind'] });
        },
      },
      /mounts\[8\]/,
    );
  });

  it('bad namespace path', async () => {
    await expectCleanFailure(
      {
        mutate: (s) => {
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'ipc' ? { type: 'ipc', path: '/etc/hostname' } : n));
        },
      },
      /linux\.namespaces\[2\]\.path/,
    );
  });

  it('overlong hostname (65 characters)', async () => {
    await expectCleanFailure({ mutate: (s) => void (s.hostname = 'h'.repeat(65)) }, /\bhostname\b/);
  });

  it('a 64-character hostname is fine', async () => {
    const bundle = makeBundle({ args: ['hostname'], mutate: (s) => void (s.hostname = 'h'.repeat(64)) });
    const id = uniqueId('ok');
    const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('h'.repeat(64) + '\n');
    bundle.remove();
  });
});

describe('container ids', () => {
  it('a duplicate id fails and leaves the first container intact', async () => {
    const bundle = makeBundle({ args: ['true'] });
    const id = uniqueId('dup');
    await tsruncOk(['create', '--bundle', bundle.dir, id]);
    const first = await state(id);
    const before = hostSnapshot();
    const other = makeBundle({ args: ['true'] });
    const r = await tsrunc(['create', '--bundle', other.dir, id]);
    expectOneLineError(r, new RegExp(`${id}.*(exists|already)|(exists|already).*${id}`));
    const after = await state(id);
    expect(after).toEqual(first);
    expect(readMountinfo().filter((m) => !before.mounts.has(m.line))).toEqual([]);
    // The first container's cgroup is still there and still holds its init.
    expect(readFileSync(`/proc/${first.pid}/cgroup`, 'utf8')).toContain(`0::/tsrunc/${id}\n`);
    expect(existsSync(containerCgroupDir(id))).toBe(true);
    await tsruncOk(['delete', '--force', id]);
    other.remove();
  });

  for (const command of ['state', 'start', 'kill', 'delete']) {
    it(`${command} of an unknown id fails`, async () => {
      const id = `unknown-${randomBytes(3).toString('hex')}`;
      const before = hostSnapshot();
      const r = await tsrunc([command, id]);
      expectOneLineError(r, new RegExp(`${id}.*(not exist|not found|no such)|(not exist|not found|no such).*${id}`, 'i'));
      expectNothingLeft(before, id);
    });
  }

  const escape = `tsrunc-test-escape-${randomBytes(3).toString('hex')}`;
  for (const bad of [`../${escape}`, 'a/b', '..', '.', '', 'a b', 'tab\there', 'semi;colon', 'a\\b', 'é']) {
    it(`invalid id ${JSON.stringify(bad)} is refused by create`, async () => {
      const bundle = makeBundle({ args: ['true'] });
      const before = hostSnapshot();
      const r = await tsrunc(['create', '--bundle', bundle.dir, '--', bad]);
      expectOneLineError(r, /id/i);
      expectNothingLeft(before, '', { bundleDir: bundle.dir });
      expect(existsSync(join('/run', escape))).toBe(false);
      expect(existsSync(join(testRoot(), '..', escape))).toBe(false);
      bundle.remove();
    });
  }

  for (const command of ['state', 'start', 'kill', 'delete']) {
    it(`${command} refuses a path-like id`, async () => {
      const r = await tsrunc([command, '--', '../../etc']);
      expectOneLineError(r, /id/i);
    });
  }
});
