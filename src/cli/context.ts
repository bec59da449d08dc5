import fs from 'node:fs';
import type { Command } from 'commander';
import { exitDone } from './fast/exit';
import { err } from './output';
import { OCI_VERSION } from '../runtime/spec-version';

export const VERSION = '0.1.0';
/** What `--version` prints (go-runc reads the first line, then the `spec:` line). */
export const VERSION_TEXT = `tsrunc version ${VERSION}\nspec: ${OCI_VERSION}`;

/** Global options as parsed, before defaults: commander's and the fast parser's shape. */
export interface RawGlobals {
  root?: string;
  log?: string;
  logFormat?: string;
  debug?: boolean;
}

/** Global options, as every command sees them. */
export interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

export function resolveGlobals(o: RawGlobals): Globals {
  const rootless = process.getuid?.() !== 0;
  const defaultRoot = rootless && process.env.XDG_RUNTIME_DIR ? `${process.env.XDG_RUNTIME_DIR}/tsrunc` : '/run/tsrunc';
  return {
    root: o.root ?? defaultRoot,
    log: o.log,
    logFormat: o.logFormat === 'json' ? 'json' : 'text',
    debug: !!o.debug,
  };
}

export function globals(cmd: Command): Globals {
  return resolveGlobals(cmd.optsWithGlobals() as RawGlobals);
}

/**
 * Fails on global options runc refuses: an unknown --log-format, or a --log that cannot be opened for
 * appending (checked up front: a log that silently goes nowhere hides every later error).
 */
export function checkRawGlobals(o: RawGlobals): void {
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

export function checkGlobals(cmd: Command): void {
  checkRawGlobals(cmd.optsWithGlobals() as RawGlobals);
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
export function warnerFor(g: Globals, command: string): (message: string) => void {
  return (m) => (g.log ? writeLog(g, 'warning', m) : err(`tsrunc: ${command}: warning: ${m}\n`));
}

/** One-line errors, runc's exit code 1, and the json log that engines read. */
export function fail(g: Globals, command: string, error: unknown): never {
  const msg = error instanceof Error ? error.message : String(error);
  writeLog(g, 'error', msg);
  err(`tsrunc: ${command}: ${msg}\n`);
  if (g.debug && error instanceof Error && error.stack) err(error.stack + '\n');
  exitDone(1);
}
