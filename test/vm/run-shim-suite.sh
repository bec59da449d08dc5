#!/bin/bash
# Boot one throw-away VM (pure cgroup v2, all controllers) and run the shim suite test/shim-vm in it:
# containerd 1.6 from the host's root (read-only in the guest; its dirs go to the guest's tmpfs /tmp)
# with our shim. Build first (dist/containerd-shim-tsrunc-v2).
# usage: test/vm/run-shim-suite.sh [vitest args...]     exit status = vitest's
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJ=$(cd "$HERE/../.." && pwd)
cd "$PROJ"
# vitest directly (npx costs seconds under TCG); CI=1: plain output on the serial console, no live redraw
exec "$HERE/run-in-vm.sh" env CI=1 node "$PROJ/node_modules/vitest/vitest.mjs" run --config "$PROJ/test/shim-vm/vitest.config.ts" "$@"
