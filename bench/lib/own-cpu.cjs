// Preloaded (`node -r`) by bench/startup.mjs --own: the process's CPU time from here (before the main
// module is resolved) to the 'exit' event, written to $TSRUNC_BENCH_OWN. Node's boot before this line and
// its teardown after 'exit' are not counted: the same for tsrunc and `node -e 0`, so the difference is
// tsrunc's own work in the process.
'use strict';
const t0 = process.cpuUsage();
process.on('exit', () => {
  const u = process.cpuUsage(t0);
  require('node:fs').writeFileSync(process.env.TSRUNC_BENCH_OWN, `${(u.user + u.system) / 1000}\n`);
});
