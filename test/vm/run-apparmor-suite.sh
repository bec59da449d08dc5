#!/bin/bash
# Boot one throw-away VM with AppArmor as its LSM and run the AppArmor suite test/apparmor-vm in it.
# usage: test/vm/run-apparmor-suite.sh [vitest args...]     exit status = vitest's
# APPARMOR_VM_DOCKER=1 adds test/apparmor-vm/docker.test.ts (dockerd + docker-default through tsrunc): it costs
# ~3-5 minutes more under TCG, so `npm test` leaves it out and it is run by hand.
# The Debian kernel has AppArmor built in; run-in-vm.sh leaves it out of lsm= to boot faster, a later lsm=
# wins. apparmor_parser comes from the host's root (Debian package apparmor), which the guest sees read-only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJ=$(cd "$HERE/../.." && pwd)
cd "$PROJ"
export VM_APPEND="${VM_APPEND:-} lsm=capability,landlock,yama,apparmor apparmor=1 security=apparmor"
# vitest directly (npx costs seconds under TCG); CI=1: plain output on the serial console, no live redraw
EXCLUDE=(--exclude test/apparmor-vm/docker.test.ts)
[ "${APPARMOR_VM_DOCKER:-}" = 1 ] && EXCLUDE=()
exec "$HERE/run-in-vm.sh" env CI=1 node "$PROJ/node_modules/vitest/vitest.mjs" run --config "$PROJ/test/apparmor-vm/vitest.config.ts" "${EXCLUDE[@]}" "$@"
