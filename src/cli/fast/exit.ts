import { type Native, native } from '../../runtime/native';

/**
 * process.exit(code) for a call that is done, successfully or not: its output and errors went out with
 * writeSync, nothing of its own is still open. After the 'exit' listeners (the warm code cache's writer
 * among them), Node still tears itself down: it stops and joins V8's platform threads, runs the C++
 * atexit handlers and restores the stdio modes it saved at start. None of that matters to a call that
 * changed no stdio mode, and it cost
 * 1.7-1.9 ms of wall time a call here (from the 'exit' event to the parent's reap, paired over 40
 * rounds) and ~2.5 ms of CPU (a minimal script, wait4's rusage after the 'exit' event, medians of 60).
 * So the call runs the 'exit' listeners itself, as process.exit() would, and ends with _exit(2) through
 * the addon; process.exit()'s own steps before the event (an internal module's require, exitCode's
 * checks) cost a cold process another ~0.2 ms (0.30 against 0.12, 6 runs each). A call that had not
 * loaded the addon (state of a created container, list) loads it for this: the dlopen (~0.7 ms) costs
 * less than the teardown (state: -0.7 ms of CPU from the first statement to the end, paired over 40
 * rounds). Node options (NODE_OPTIONS, flags such as --cpu-prof, NODE_V8_COVERAGE) may want that
 * teardown to write their output, and an addon that does not load leaves nothing to call: then the
 * exit is Node's.
 */
export function exitDone(code = 0): never {
  if (!process.execArgv.length && !process.env.NODE_OPTIONS && !process.env.NODE_V8_COVERAGE) {
    let addon: Native | undefined;
    try {
      addon = native();
    } catch {
      // no addon: Node's own exit
    }
    if (addon) {
      process.exitCode = code;
      process.emit('exit', code);
      addon.exitNow(typeof process.exitCode === 'number' ? process.exitCode : code);
    }
  }
  process.exit(code);
}
