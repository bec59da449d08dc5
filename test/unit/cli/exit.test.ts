// A hot call that is done (src/cli/fast/exit.ts) ends with _exit(2) through the addon once its 'exit'
// listeners ran; with Node options that may write at teardown (NODE_OPTIONS, flags, NODE_V8_COVERAGE), or
// an addon that does not load, the exit stays Node's.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

const exitNow = vi.fn();
let addonLoads = true;
vi.mock('../../../src/runtime/native', () => ({
  native: () => {
    if (!addonLoads) throw new Error('cannot open shared object file');
    return { exitNow };
  },
}));
const { exitDone } = await import('../../../src/cli/fast/exit');

const saved = { execArgv: process.execArgv, options: process.env.NODE_OPTIONS, coverage: process.env.NODE_V8_COVERAGE, exitCode: process.exitCode };
beforeEach(() => {
  process.execArgv = [];
  delete process.env.NODE_OPTIONS;
  delete process.env.NODE_V8_COVERAGE;
  addonLoads = true;
  exitNow.mockReset();
});
afterEach(() => {
  vi.restoreAllMocks();
  process.execArgv = saved.execArgv;
  for (const [k, v] of [['NODE_OPTIONS', saved.options], ['NODE_V8_COVERAGE', saved.coverage]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.exitCode = saved.exitCode;
});

/** Runs exitDone(code) with process.exit stubbed; returns the 'exit' listener it registered, if any. */
function exitListener(code?: number): ((code: number) => void) | undefined {
  let listener: ((code: number) => void) | undefined;
  vi.spyOn(process, 'once').mockImplementation(((event: string, cb: (code: number) => void) => {
    if (event === 'exit') listener = cb;
    return process;
  }) as typeof process.once);
  const exit = vi.spyOn(process, 'exit').mockImplementation((() => {
    throw new Error('process.exit');
  }) as typeof process.exit);
  expect(() => (code === undefined ? exitDone() : exitDone(code))).toThrow('process.exit');
  expect(exit).toHaveBeenCalledExactlyOnceWith(code ?? 0);
  return listener;
}

it('ends with the addon once the exit listeners ran, with the exit code', () => {
  const last = exitListener();
  expect(last).toBeTypeOf('function');
  expect(exitNow).not.toHaveBeenCalled(); // not before process.exit() emitted 'exit'
  last!(0);
  expect(exitNow).toHaveBeenCalledWith(0);
  process.exitCode = 3;
  last!(0);
  expect(exitNow).toHaveBeenLastCalledWith(3);
});

it('a failed call leaves with its status', () => {
  const last = exitListener(1);
  last!(1);
  expect(exitNow).toHaveBeenCalledWith(1);
});

it.each([
  ['the addon does not load', () => (addonLoads = false)],
  ['NODE_OPTIONS is set', () => (process.env.NODE_OPTIONS = '--cpu-prof')],
  ['node has flags', () => (process.execArgv = ['--cpu-prof'])],
  ['coverage is collected', () => (process.env.NODE_V8_COVERAGE = '/tmp/cov')],
])("leaves the exit to Node when %s", (_, arrange) => {
  arrange();
  expect(exitListener()).toBeUndefined();
});
