import { Command, CommanderError } from 'commander';
import { VERSION, SPEC_VERSION, checkGlobals, globals, writeLog } from './context';
import { invokedCommand, registerCommands } from './commands';
import { err, out } from './output';

/** One-line errors, runc's exit code 1, and the json log that engines read. */
function fail(program: Command, command: string, error: unknown): never {
  const msg = error instanceof Error ? error.message : String(error);
  const g = globals(program);
  writeLog(g, 'error', msg);
  err(`tsrunc: ${command}: ${msg}\n`);
  if (g.debug && error instanceof Error && error.stack) err(error.stack + '\n');
  process.exit(1);
}

async function main(): Promise<void> {
  const program = new Command('tsrunc')
    .description('an OCI container runtime, runc-compatible')
    .version(`tsrunc version ${VERSION}\nspec: ${SPEC_VERSION}`, '-v, --version')
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

  const only = invokedCommand(process.argv.slice(2));
  registerCommands(program, (command, action) => async (...args: unknown[]) => {
    try {
      checkGlobals(program);
      if (program.opts().systemdCgroup) throw new Error('the systemd cgroup driver is not supported');
      await action(...args);
    } catch (err) {
      fail(program, command, err);
    }
  }, only);

  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 1);
    // An option's value parser threw while commander parsed argv: one line, like any other error.
    fail(program, only ?? 'tsrunc', err);
  }
}

void main();
