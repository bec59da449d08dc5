import type { RawGlobals } from '../context';
import { flag, GLOBALS, val, type Opt } from './options';

/**
 * A parser for the calls engines make on every container (state, start, kill, delete, list, create,
 * exec, --version) that needs no commander: loading and wiring commander costs each call ~4 ms.
 * It accepts only argv that commander would read the same way, with the same flags; anything else
 * (help, unknown or combined flags, a missing value, too many operands, `--`) returns undefined and
 * the full commander CLI handles it, so errors, help and exit codes stay commander's.
 */
export interface FastCall {
  command: string;
  globals: RawGlobals;
  operands: string[];
  opts: Record<string, unknown>;
}

interface Spec {
  min: number;
  max: number;
  opts: Record<string, Opt>;
  defaults?: () => Record<string, unknown>;
  /** Options only before the first operand (commander's passThroughOptions). */
  passThrough?: boolean;
}

const ID_ONLY: Spec = { min: 1, max: 1, opts: {} };
const LIST: Spec = {
  min: 0,
  max: 0,
  opts: { '-f': val('format'), '--format': val('format'), '-q': flag('quiet'), '--quiet': flag('quiet') },
  defaults: () => ({ format: 'table' }),
};

export const SPECS: Record<string, Spec> = {
  state: ID_ONLY,
  start: ID_ONLY,
  kill: { min: 1, max: 2, opts: { '-a': flag('all'), '--all': flag('all') } },
  delete: { min: 1, max: 1, opts: { '-f': flag('force'), '--force': flag('force') } },
  list: LIST,
  ls: LIST,
  create: {
    min: 1,
    max: 1,
    opts: {
      '-b': val('bundle'),
      '--bundle': val('bundle'),
      '--console-socket': val('consoleSocket'),
      '--pid-file': val('pidFile'),
      '--no-pivot': flag('pivot', false),
      '--no-new-keyring': flag('newKeyring', false),
      '--preserve-fds': val('preserveFds'),
    },
    defaults: () => ({ bundle: '.', pivot: true, newKeyring: true, preserveFds: '0' }),
  },
  // The flags engines pass (containerd: --process F --pid-file P -d [--console-socket S]); the rest
  // go through commander.
  exec: {
    min: 1,
    max: Infinity,
    passThrough: true,
    opts: {
      '-p': val('process'),
      '--process': val('process'),
      '-t': flag('tty'),
      '--tty': flag('tty'),
      '--console-socket': val('consoleSocket'),
      '-d': flag('detach'),
      '--detach': flag('detach'),
      '--pid-file': val('pidFile'),
      '--cwd': val('cwd'),
      '-e': { key: 'env', value: true, repeat: true },
      '--env': { key: 'env', value: true, repeat: true },
    },
    defaults: () => ({ env: [], additionalGids: [], cap: [], cgroup: [], preserveFds: '0' }),
  },
};

/**
 * Reads one option at args[i] into `into`; returns how many args it used, or 0 when it is not one
 * this parser may take.
 */
function option(args: string[], i: number, table: Record<string, Opt>, into: Record<string, unknown>): number {
  const a = args[i]!;
  const eq = a.startsWith('--') ? a.indexOf('=') : -1;
  const name = eq > 0 ? a.slice(0, eq) : a;
  const o = Object.hasOwn(table, name) ? table[name]! : undefined;
  if (!o) return 0;
  if (!o.value) {
    if (eq > 0) return 0;
    into[o.key] = o.set;
    return 1;
  }
  let v: string | undefined;
  let used = 1;
  if (eq > 0) v = a.slice(eq + 1);
  else {
    v = args[i + 1];
    used = 2;
    // A value that looks like an option: commander's reading of it is what counts.
    if (v === undefined || v.startsWith('-')) return 0;
  }
  if (o.repeat) into[o.key] = [...((into[o.key] as string[]) ?? []), v];
  else into[o.key] = v;
  return used;
}

export function parseFast(args: string[]): FastCall | 'version' | undefined {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) return 'version';
  const globals: Record<string, unknown> = {};
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    const used = option(args, i, GLOBALS, globals);
    if (!used) return undefined;
    i += used;
  }
  const command = args[i++];
  if (command === undefined || !Object.hasOwn(SPECS, command)) return undefined;
  const spec = SPECS[command]!;
  const opts: Record<string, unknown> = spec.defaults?.() ?? {};
  const operands: string[] = [];
  for (; i < args.length; ) {
    const a = args[i]!;
    if (spec.passThrough && operands.length > 0) {
      if (a === '--') return undefined;
      operands.push(a);
      i++;
    } else if (a.startsWith('-')) {
      const used = option(args, i, spec.opts, opts);
      if (!used) return undefined;
      i += used;
    } else {
      operands.push(a);
      i++;
    }
  }
  if (operands.length < spec.min || operands.length > spec.max) return undefined;
  if (opts.preserveFds !== undefined) {
    if (!/^\d+$/.test(opts.preserveFds as string)) return undefined;
    opts.preserveFds = Number(opts.preserveFds);
  }
  return { command, globals: globals as RawGlobals, operands, opts };
}
