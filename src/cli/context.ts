import fs from 'node:fs';
import type { Command } from 'commander';
import { err } from './output';

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

/** Global options, as every command sees them. */
export interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

export function globals(cmd: Command): Globals {
  const o = cmd.optsWithGlobals() as { root?: string; log?: string; logFormat?: string; debug?: boolean };
  const rootless = process.getuid?.() !== 0;
  const defaultRoot = rootless && process.env.XDG_RUNTIME_DIR ? `${process.env.XDG_RUNTIME_DIR}/tsrunc` : '/run/tsrunc';
  return {
    root: o.root ?? defaultRoot,
    log: o.log,
    logFormat: o.logFormat === 'json' ? 'json' : 'text',
    debug: !!o.debug,
  };
}

/**
 * Fails on global options runc refuses: an unknown --log-format, or a --log that cannot be opened for
 * appending (checked up front: a log that silently goes nowhere hides every later error).
 */
export function checkGlobals(cmd: Command): void {
  const o = cmd.optsWithGlobals() as { log?: string; logFormat?: string };
  if (o.logFormat !== undefined && o.logFormat !== 'text' && o.logFormat !== 'json')
    throw new Error(`invalid --log-format "${o.logFormat}": use text or json`);
  if (o.log === undefined) return;
  if (o.log === '') throw new Error('--log: empty path');
  try {
    fs.closeSync(fs.openSync(o.log, 'a', 0o640));
  } catch (e) {
    throw new Error(`--log: cannot open ${o.log}: ${(e as Error).message.replace(/^[A-Z]+: /, '').replace(/, open .*$/, '')}`);
  }
}

/** Writes one log line in runc's formats (go-runc reads errors from the json log file). */
export function writeLog(g: Globals, level: 'error' | 'warning' | 'info' | 'debug', msg: string): void {
  if (!g.log) return;
  const time = new Date().toISOString();
  const line = g.logFormat === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
  try {
    fs.appendFileSync(g.log, line + '\n');
  } catch {
    // the log is best effort; the error still reaches stderr
  }
}

/** Where a command's warnings go: the --log when given (runc's format), else stderr. */
export function warner(cmd: Command, command: string): (message: string) => void {
  const g = globals(cmd);
  return (m) => (g.log ? writeLog(g, 'warning', m) : err(`tsrunc: ${command}: warning: ${m}\n`));
}
