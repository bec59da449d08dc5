import { Command, CommanderError } from 'commander';
import { VERSION_TEXT, checkGlobals, fail, globals } from './context';
import { invokedCommand, registerCommands } from './commands';
import { err, out } from './output';

/** The program with its global options (the caller registers the commands). */
export function buildProgram(): Command {
  return new Command('tsrunc')
    .description('an OCI container runtime, runc-compatible')
    .version(VERSION_TEXT, '-v, --version')
    .option('--root <dir>', 'state directory (default /run/tsrunc)')
    .option('--log <file>', 'log file (default: stderr only)')
    .option('--log-format <format>', 'log format: text or json', 'text')
    .option('--debug', 'print debug information')
    .option('--systemd-cgroup', 'use the systemd cgroup driver (not supported)')
    .option('--rootless <value>', 'ignored: rootless mode is detected')
    .option('--criu <path>', 'ignored: checkpointing is not supported')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => err(s.startsWith('error: ') ? `tsrunc: ${s.slice(7)}` : s) });
}

/** The whole CLI on commander: help, rare commands and flags, and commander's own errors. */
export async function runFull(argv: string[]): Promise<void> {
  const program = buildProgram();
  const only = invokedCommand(argv.slice(2));
  registerCommands(program, (command, action) => async (...args: unknown[]) => {
    try {
      checkGlobals(program);
      if (program.opts().systemdCgroup) throw new Error('the systemd cgroup driver is not supported');
      await action(...args);
    } catch (err) {
      fail(globals(program), command, err);
    }
  }, only);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 1);
    // An option's value parser threw while commander parsed argv: one line, like any other error.
    fail(globals(program), only ?? 'tsrunc', err);
  }
}
