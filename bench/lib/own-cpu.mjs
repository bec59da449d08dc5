// bench/startup.mjs --own: a process's CPU time from the first statement of its main module to the
// 'exit' event, written to $TSRUNC_BENCH_OWN with the CPU time spent before that statement (Node's boot:
// subtracted from perf's whole-process figure, what is left is the call's own work and its exit). No
// preload (`node -r`): loading one runs the CJS loader's resolution of a required file for the first
// time, which a real call then finds warm, and that hid ~0.5 ms of a call's own cost (resolving its
// bundle). So each build gets a probe copy of its entry, dist/.own-probe.cjs (the probe, then the entry
// unchanged: its lib/ bundles load from beside it), and the floor is an empty main with the same probe.
// The compile of the main file (the entry: ~4 KB) is not counted.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PROBE =
  'var __ownCpu0=process.cpuUsage();process.on("exit",()=>{const u=process.cpuUsage(__ownCpu0);' +
  'require("node:fs").writeFileSync(process.env.TSRUNC_BENCH_OWN,JSON.stringify({own:(u.user+u.system)/1000,' +
  'before:(__ownCpu0.user+__ownCpu0.system)/1000}))});';

/** Writes the probe copy of `entry` (a dist/tsrunc.cjs) beside it; returns its path. */
export function writeOwnProbe(entry) {
  const probe = join(entry, '..', '.own-probe.cjs');
  // after the shebang and the "use strict" prologue, which must stay first
  writeFileSync(probe, readFileSync(entry, 'utf8').replace(/^(#![^\n]*\n)?("use strict";\n?)?/, (head) => head + PROBE));
  return probe;
}

/** The floor: an empty main module with the probe. */
export function writeOwnFloor(dir) {
  const file = join(dir, 'own-floor.cjs');
  writeFileSync(file, `"use strict";${PROBE}\n`);
  return file;
}

export function removeOwnProbe(probe) {
  rmSync(probe, { force: true });
}
