// The runc-compatible CLI surface: --version, spec, features, --log/--log-format, --root, unknown commands.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv, hostDir, makeBundle, REPO, runId, tsrunc, tsruncArgv, tsruncOk, uniqueId } from '../helpers';
import { removeTree } from '../helpers/fs';

const tempDir = () => hostDir('cli');

describe('--version', () => {
  it('prints "tsrunc version X" first and a "spec: 1.3.0" line', async () => {
    const r = await tsrunc(['--version']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(lines[0]).toBe(`tsrunc version ${pkg.version}`);
    expect(lines).toContain('spec: 1.3.0');
  });
});

describe('spec', () => {
  it('writes a runc-like default config.json and refuses to overwrite it', async () => {
    const dir = tempDir();
    await tsruncOk(['spec'], { cwd: dir });
    const text = readFileSync(join(dir, 'config.json'), 'utf8');
    const spec = JSON.parse(text) as Record<string, any>;
    expect(spec.ociVersion).toBe('1.3.0');
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.process.args).toEqual(['sh']);
    expect(spec.process.terminal).toBe(true);
    expect(spec.linux.namespaces.map((n: { type: string }) => n.type)).toEqual(
      expect.arrayContaining(['pid', 'network', 'ipc', 'uts', 'mount']),
    );
    expect(spec.mounts.map((m: { destination: string }) => m.destination)).toEqual(
      expect.arrayContaining(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']),
    );

    const again = await tsrunc(['spec'], { cwd: dir });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/config\.json/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(text);
  });

  it('--bundle DIR writes there; an existing file there is kept', async () => {
    const dir = tempDir();
    await tsruncOk(['spec', '--bundle', dir]);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).ociVersion).toBe('1.3.0');
    const other = tempDir();
    writeFileSync(join(other, 'config.json'), 'mine');
    expect((await tsrunc(['spec', '-b', other])).code).not.toBe(0);
    expect(readFileSync(join(other, 'config.json'), 'utf8')).toBe('mine');
  });

  it('the written spec runs as is once a rootfs is there (terminal off)', async () => {
    const bundle = makeBundle({ args: ['true'] });
    const dir = tempDir();
    await tsruncOk(['spec', '-b', dir]);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['sh', '-c', 'echo spec-ok'];
    spec.root.path = bundle.rootfs;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    const id = uniqueId('spec');
    const r = await tsrunc(['run', '-b', dir, id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('spec-ok\n');
  });
});

describe('features', () => {
  it('runc-shaped JSON: ociVersionMin/Max, linux.namespaces, capabilities, mountOptions', async () => {
    const f = JSON.parse(await tsruncOk(['features'])) as Record<string, any>;
    expect(f.ociVersionMin).toMatch(/^1\.\d+\.\d+$/);
    expect(f.ociVersionMax).toBe('1.3.0');
    expect(f.linux.namespaces).toEqual(expect.arrayContaining(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'uts']));
    expect(f.linux.capabilities).toEqual(expect.arrayContaining(['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_RAW', 'CAP_KILL']));
    for (const c of f.linux.capabilities as string[]) expect(c).toMatch(/^CAP_[A-Z_]+$/);
    expect(f.mountOptions).toEqual(expect.arrayContaining(['ro', 'rbind', 'rro', 'nosuid', 'nodev', 'noexec']));
  });
});

describe('logging', () => {
  it('--log F --log-format json writes {"level":"error","msg","time"} lines on an error', async () => {
    const log = join(tempDir(), 'tsrunc.log');
    const r = await tsrunc(['state', 'no-such-container'], { globalArgs: ['--log', log, '--log-format', 'json'] });
    expect(r.code).not.toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const err = entries.find((e) => e.level === 'error');
    expect(err).toBeDefined();
    expect(err!.msg).toMatch(/no-such-container/);
    expect(typeof err!.time).toBe('string');
    expect(Number.isNaN(Date.parse(err!.time as string))).toBe(false);
  });

  it('--log F appends (text format by default) and names the error', async () => {
    const log = join(tempDir(), 'tsrunc.log');
    writeFileSync(log, 'earlier line\n');
    const r = await tsrunc(['kill', 'no-such-container'], { globalArgs: ['--log', log] });
    expect(r.code).not.toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text.startsWith('earlier line\n')).toBe(true);
    expect(text).toMatch(/no-such-container/);
  });
});

describe('global behaviour', () => {
  it('an unknown command exits non-zero with a message', async () => {
    const r = await tsrunc(['no-such-command']);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/no-such-command/);
  });

  it('a missing --root is created 0700', async () => {
    const root = join('/run', `tsrunc-test-${runId()}-newroot-${process.pid}`, 'nested');
    const bundle = makeBundle({ args: ['true'] });
    const id = uniqueId('root');
    try {
      await tsruncOk(['create', '-b', bundle.dir, id], { root });
      expect(statSync(root).mode & 0o777).toBe(0o700);
      expect(existsSync(join(root, id))).toBe(true);
      await tsruncOk(['delete', '--force', id], { root });
      expect(existsSync(join(root, id))).toBe(false);
    } finally {
      await tsrunc(['delete', '--force', id], { root });
      removeTree(join(root, '..'));
    }
  });

  it('a hot call that skips Node\'s teardown keeps it when Node is asked for output at exit', async () => {
    // A hot call ends with _exit(2) through the addon (src/cli/fast/exit.ts), unless Node was given
    // options that write at exit.
    const id = uniqueId('exit');
    expect((await tsrunc(['delete', '--force', id])).code).toBe(0);
    const coverage = tempDir();
    const r = await tsrunc(['delete', '--force', id], { env: { NODE_V8_COVERAGE: coverage } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(coverage).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const profiles = tempDir();
    const p = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, ...tsruncArgv(['delete', '--force', id])], { env: childEnv(), encoding: 'utf8' });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);
  });

  it('a command without its container id fails', async () => {
    for (const cmd of ['create', 'start', 'state', 'kill', 'delete']) {
      const r = await tsrunc([cmd]);
      expect(r.code, cmd).not.toBe(0);
      expect(r.code, cmd).not.toBeNull();
    }
  });
});
