import fs from 'node:fs';
import type { Command } from 'commander';

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
