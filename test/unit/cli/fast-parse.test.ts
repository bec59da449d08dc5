// The fast parser (src/cli/fast/parse.ts) must read every argv it accepts exactly as commander's CLI
// does, and hand everything else to commander. Each case runs through both.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { resolveGlobals, type RawGlobals } from '../../../src/cli/context';
import { registerCommands } from '../../../src/cli/commands';
import { buildProgram } from '../../../src/cli/full';
import { parseFast } from '../../../src/cli/fast/parse';
import { TSRUNC_CJS } from '../../helpers/env';

/** What the action of a command would work with, as commander parses argv. */
function viaCommander(argv: string[]) {
  const program = buildProgram().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  let seen: { command: string; operands: string[]; opts: Record<string, unknown>; globals: RawGlobals } | undefined;
  registerCommands(program, (command) => async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const operands = args.slice(0, -2).flat().filter((a): a is string => a !== undefined) as string[];
    seen = { command, operands, opts: cmd.opts(), globals: program.opts() as RawGlobals };
  });
  try {
    program.parse(['node', 'tsrunc', ...argv]);
  } catch {
    return undefined; // commander's own error (or help/version)
  }
  return seen;
}

/** The fields each action reads, normalized (commander's negatable flags default to true). */
const FIELDS: Record<string, (o: Record<string, unknown>) => unknown> = {
  state: () => ({}),
  start: () => ({}),
  kill: (o) => ({ all: !!o.all }),
  delete: (o) => ({ force: !!o.force }),
  list: (o) => ({ format: o.format, quiet: !!o.quiet }),
  create: (o) => ({ bundle: o.bundle, consoleSocket: o.consoleSocket, pidFile: o.pidFile, pivot: o.pivot, newKeyring: o.newKeyring, preserveFds: o.preserveFds }),
  exec: (o) => ({
    process: o.process,
    tty: !!o.tty,
    consoleSocket: o.consoleSocket,
    detach: !!o.detach,
    pidFile: o.pidFile,
    cwd: o.cwd,
    env: o.env,
    user: o.user,
    additionalGids: o.additionalGids,
    cap: o.cap,
    cgroup: o.cgroup,
    preserveFds: o.preserveFds,
    noNewPrivs: o.newPrivs === false,
    ignorePaused: !!o.ignorePaused,
  }),
};

const ACCEPTED = [
  ['state', 'c1'],
  ['--root', '/r', 'state', 'c1'],
  ['--root=/r', '--log', '/l', '--log-format', 'json', 'state', 'c1'],
  ['--debug', '--rootless', 'false', 'start', 'x'],
  ['kill', 'x'],
  ['kill', 'x', 'KILL'],
  ['kill', '--all', 'x', '9'],
  ['kill', 'x', '-a'],
  ['delete', '-f', 'x'],
  ['delete', 'x', '--force'],
  ['list'],
  ['ls', '-q'],
  ['list', '--format', 'json'],
  ['list', '-f', 'json'],
  ['list', '--format=json'],
  ['--root', '/r', '--log', '/l', '--log-format', 'json', 'create', '--bundle', '/b', '--pid-file', '/p', 'x'],
  ['create', '-b', '/b', '--console-socket=/s', '--no-pivot', '--no-new-keyring', '--preserve-fds', '2', 'x'],
  ['create', 'x', '--bundle', '/b'],
  ['exec', '--process', '/p.json', '--pid-file', '/p', '-d', 'x'],
  ['exec', '-t', '--console-socket', '/s', 'x', 'sh', '-c', 'echo -n'],
  ['exec', 'x', 'ls', '--force', '-d'],
  ['exec', '-e', 'A=1', '--env', 'B=2', '--cwd', '/tmp', 'x', 'env'],
];

const DEFERRED = [
  [],
  ['--help'],
  ['help'],
  ['state'],
  ['state', 'a', 'b'],
  ['state', '--', 'x'],
  ['kill', 'x', '-9'],
  ['kill', 'a', 'b', 'c'],
  ['delete', '-fx'],
  ['delete', '--force=yes', 'x'],
  ['list', '-qf', 'json'],
  ['list', '--format', '-q'],
  ['create', '--bundle'],
  ['create', '--preserve-fds', 'x', 'id'],
  ['--root'],
  ['--systemd-cgroup', 'state', 'x'],
  ['--weird', 'state', 'x'],
  ['exec', 'x', '--', 'ls'],
  ['exec', '--user', '1', 'x', 'id'],
  ['spec'],
  ['--root', '/r', '--version'],
];

describe('fast CLI parser', () => {
  it.each(ACCEPTED.map((a) => [a.join(' '), a] as const))('reads `%s` as commander does', (_, argv) => {
    const fast = parseFast(argv);
    const slow = viaCommander(argv);
    expect(slow).toBeDefined();
    expect(fast).toBeTypeOf('object');
    if (typeof fast !== 'object' || !slow) return;
    expect(fast.command === 'ls' ? 'list' : fast.command).toBe(slow.command);
    expect(fast.operands).toEqual(slow.operands);
    expect(resolveGlobals(fast.globals)).toEqual(resolveGlobals(slow.globals));
    const pick = FIELDS[slow.command]!;
    expect(pick(fast.opts)).toEqual(pick(slow.opts));
  });

  it.each(DEFERRED.map((a) => [a.join(' '), a] as const))('leaves `%s` to commander', (_, argv) => {
    expect(parseFast(argv)).toBeUndefined();
  });

  it('answers --version alone, as commander prints it', () => {
    expect(parseFast(['--version'])).toBe('version');
    expect(parseFast(['-v'])).toBe('version');
  });
});

describe('the CLI entry', () => {
  // A preload that reports, at exit, which of our bundles were required (require.cache) and read (the
  // entry's own loaders read them: src/cli/fast/bundle-load.ts), and whether node:vm was loaded.
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-fast-'));
  const probe = join(dir, 'probe.cjs');
  writeFileSync(
    probe,
    `const fs = require('fs'); const read = []; const readFileSync = fs.readFileSync;
     fs.readFileSync = function (f, ...rest) { if (typeof f === 'string' && f.endsWith('.cjs')) read.push(f); return readFileSync.call(this, f, ...rest); };
     const short = (f) => f.split('/').slice(-2).join('/');
     process.on('exit', () => fs.writeSync(3, JSON.stringify({ required: Object.keys(require.cache).map(short), read: read.map(short), vm: process.moduleLoadList.includes('NativeModule vm') })));`,
  );
  const loaded = (args: string[], nodeFlags: string[] = []) => {
    const r = spawnSync(process.execPath, [...nodeFlags, '-r', probe, TSRUNC_CJS, '--root', join(dir, 'root'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    const seen = JSON.parse((r.output[3] as string) || '{"required":[],"read":[],"vm":false}') as { required: string[]; read: string[]; vm: boolean };
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, ...seen };
  };

  it('runs a hot call without commander', () => {
    const r = loaded(['list', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(r.required.some((m) => m.includes('commander'))).toBe(false);
    expect(r.read).not.toContain('lib/full.cjs');
    // the call's own bundle holds its operation: one file besides the entry
    expect(r.read).toEqual(['dist/tsrunc.cjs', 'lib/call-list.cjs']);
    // compiled by the entry's loader, not resolved through require() (~0.5 ms in a cold process)
    expect(r.required).not.toContain('lib/call-list.cjs');
    // the code cache's loader is in the entry, but only the code-cached calls run it
    expect(r.vm).toBe(false);
  });

  it('takes require() for a call bundle when Node refuses code from strings', () => {
    const r = loaded(['list', '--format', 'json'], ['--disallow-code-generation-from-strings']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(r.required).toContain('lib/call-list.cjs');
  });

  it('loads the commander CLI for the rest', () => {
    const r = loaded(['spec', '--help']);
    expect(r.status).toBe(0);
    expect(r.read).toContain('lib/full.cjs');
  });

  it.sequential('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
