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

/**
 * Runs exitDone(code) with process.exit and the addon's _exit stubbed (both throw to end the call, as
 * both end the process); returns, in order, what the 'exit' listeners saw and what ended the process.
 */
function runExit(code?: number, listener?: () => void): string[] {
  const events: string[] = [];
  const onExit = (c: number) => {
    events.push(`exit event ${c}`);
    listener?.();
  };
  process.on('exit', onExit);
  exitNow.mockImplementation((c: number) => {
    events.push(`_exit ${c}`);
    throw new Error('ended');
  });
  vi.spyOn(process, 'exit').mockImplementation(((c: number) => {
    events.push(`process.exit ${c}`);
    throw new Error('ended');
  }) as typeof process.exit);
  try {
    expect(() => (code === undefined ? exitDone() : exitDone(code))).toThrow('ended');
    return events;
  } finally {
    process.off('exit', onExit);
  }
}

it('runs the exit listeners, then ends with the addon, with the exit code', () => {
  expect(runExit()).toEqual(['exit event 0', '_exit 0']);
  expect(runExit(1)).toEqual(['exit event 1', '_exit 1']);
});

it('a listener may change the exit code', () => {
  expect(runExit(0, () => (process.exitCode = 3))).toEqual(['exit event 0', '_exit 3']);
});

it.each([
  ['the addon does not load', () => (addonLoads = false)],
  ['NODE_OPTIONS is set', () => (process.env.NODE_OPTIONS = '--cpu-prof')],
  ['node has flags', () => (process.execArgv = ['--cpu-prof'])],
  ['coverage is collected', () => (process.env.NODE_V8_COVERAGE = '/tmp/cov')],
])("leaves the exit to Node when %s", (_, arrange) => {
  arrange();
  // (process.exit, stubbed here, emits 'exit' itself)
  expect(runExit()).toEqual(['process.exit 0']);
});
