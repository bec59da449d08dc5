#!/bin/bash
# Boot one throw-away VM (pure cgroup v2, all controllers) and run the cgroup suite test/cgroups-vm in it.
# usage: test/vm/run-cgroup-suite.sh [vitest args...]     exit status = vitest's
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJ=$(cd "$HERE/../.." && pwd)
cd "$PROJ"
# vitest directly (npx costs seconds under TCG); CI=1: plain output on the serial console, no live redraw
exec "$HERE/run-in-vm.sh" env CI=1 node "$PROJ/node_modules/vitest/vitest.mjs" run --config "$PROJ/test/cgroups-vm/vitest.config.ts" "$@"
