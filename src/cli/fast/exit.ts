import { loadedNative } from '../../runtime/native';

/**
 * process.exit() for a hot call that is done: its output went out with writeSync, nothing of its own is
 * still open. After the 'exit' listeners (the warm code cache's writer among them), Node still tears
 * itself down: it stops and joins V8's platform threads, runs the C++ atexit handlers and restores the
 * stdio modes it saved at start. None of that matters to a call that changed no stdio mode, and it cost
 * 1.7-1.9 ms of wall time a call here (from the 'exit' event to the parent's reap, paired over 40
 * rounds). So the last 'exit' listener ends the process with _exit(2) through the addon, when the call
 * loaded it anyway (start, kill, delete, create, exec, state of a running container): a dlopen only for
 * this would cost ~0.6 ms. Node options (NODE_OPTIONS, flags such as --cpu-prof, NODE_V8_COVERAGE) may
 * want that teardown to write their output: then the exit is Node's own.
 */
export function exitDone(): never {
  const addon = loadedNative();
  if (addon && !process.execArgv.length && !process.env.NODE_OPTIONS && !process.env.NODE_V8_COVERAGE) {
    process.once('exit', (code) => addon.exitNow(typeof process.exitCode === 'number' ? process.exitCode : code));
  }
  process.exit();
}
