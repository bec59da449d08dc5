#!/bin/bash
# Boot one throw-away VM (pure cgroup v2, all controllers) and run the cgroup suite test/cgroups-vm in it.
# usage: test/vm/run-cgroup-suite.sh [vitest args...]     exit status = vitest's
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJ=$(cd "$HERE/../.." && pwd)
cd "$PROJ"
# Until the real addon registers native/addon/bpf.cc, build it alone for the device-filter test (host side:
# compiling under TCG would take minutes).
OUT=.vm-cache/bpf-test.node
if [ ! "$OUT" -nt native/addon/bpf.cc ] || [ ! "$OUT" -nt test/cgroups-vm/bpf-addon.cc ]; then
  mkdir -p .vm-cache
  NODE_INC=$(node -p "require('path').join(process.execPath, '../../include/node')")
  [ -f "$NODE_INC/node_api.h" ] || NODE_INC=/usr/include/node
  g++ -std=c++17 -O2 -shared -fPIC -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -D_GNU_SOURCE \
    -I"$NODE_INC" -I"$(node -p "require('node-addon-api').include_dir")" -Inative \
    -o "$OUT" native/addon/bpf.cc test/cgroups-vm/bpf-addon.cc || echo "run-cgroup-suite: bpf test addon not built" >&2
fi
# vitest directly (npx costs seconds under TCG); CI=1: plain output on the serial console, no live redraw
exec "$HERE/run-in-vm.sh" env CI=1 node "$PROJ/node_modules/vitest/vitest.mjs" run --config "$PROJ/test/cgroups-vm/vitest.config.ts" "$@"
