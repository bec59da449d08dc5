#!/bin/bash
# Run a command inside a throw-away pure-cgroup-v2 QEMU guest that sees the host's root fs
# (read-only, tmpfs overlay) and the project directory (read-write, same path).
# usage: test/vm/run-in-vm.sh <command> [args...]      exit status = the command's
# env: VM_MEM (2G) VM_CPUS (2) VM_TIMEOUT (900 s) VM_BOOT_TIMEOUT (150 s) VM_ACCEL (auto|kvm|tcg) VM_CACHE VM_ENV ("CI NODE_OPTIONS ...")
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJ=${VM_PROJECT_DIR:-$(cd "$HERE/../.." && pwd)}
CACHE=${VM_CACHE:-$PROJ/.vm-cache}   # gitignored; kernel + initramfs built once
"$HERE/prepare-kernel.sh" "$CACHE" >&2          # one-time: ~10 s, cached
KV=$(cat "$CACHE/kver")
ACCEL=${VM_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then            # /dev/kvm alone is not enough (nested PVM here emulates everything)
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then ACC=(-accel kvm -cpu host); else ACC=(-accel tcg,thread=multi -cpu max); fi
# boot-time savers under TCG (~1 s): skip crypto self-tests, AppArmor/IMA, i8042 probing, KASLR
FAST="cgroup_no_v1=all cryptomgr.notests=1 lsm=capability,landlock,yama mitigations=off nokaslr i8042.noaux=1 i8042.nokbd=1 8250.nr_uarts=1 rcupdate.rcu_expedited=1"
CTL=$(mktemp -d /tmp/tsrunc-vm.XXXXXX); trap 'rm -rf "$CTL"' EXIT
printf '%q ' "$@" > "$CTL/cmd.sh"; pwd > "$CTL/cwd"
: > "$CTL/env.sh"; for v in CI ${VM_ENV:-}; do [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}" >> "$CTL/env.sh"; done
# A guest that never reaches stage 2 (once in ~50 boots a guest printed nothing until the suite's timeout)
# is killed and booted once more: none of our code ran in it. Anything later is not retried.
BOOT_WAIT=${VM_BOOT_TIMEOUT:-150}; LIMIT=${VM_TIMEOUT:-900}
boot() {
  exec {out}< <(exec timeout --foreground -k 5 "$1" qemu-system-x86_64 "${ACC[@]}" -m "${VM_MEM:-2G}" -smp "${VM_CPUS:-2}" \
    -bios /usr/share/qemu/qboot.rom -nographic -no-reboot -nodefaults -no-user-config -serial stdio \
    -kernel "$CACHE/vmlinux" -initrd "$CACHE/initrd.gz" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$PROJ",mount_tag=proj,security_model=none \
    -virtfs local,path="$CTL",mount_tag=ctl,security_model=none \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 tsc=reliable $FAST ${VM_APPEND:-} vm.stage2=$HERE/guest-init.sh vm.ctl=$CTL vm.shares=proj:$PROJ,ctl:$CTL vm.moddir=$CACHE/kernel/lib/modules/$KV" \
    </dev/null 2>&1)
  qpid=$!
}
set +e
for attempt in 1 2; do
  rm -f "$CTL/rc"
  boot $((LIMIT - SECONDS)); deadline=$((SECONDS + BOOT_WAIT)); up=0
  while [ $SECONDS -lt $deadline ] && IFS= read -r -t $((deadline - SECONDS)) -u $out line; do
    printf '%s\n' "$line"
    case $line in *"vm: stage 2 up"*) up=1; break;; esac
  done
  if [ $up = 1 ]; then cat <&$out; wait $qpid; q=$?; break; fi
  kill -TERM $qpid 2>/dev/null; wait $qpid; q=$?; exec {out}<&-
  echo "run-in-vm: the guest did not reach stage 2 within ${BOOT_WAIT} s (boot $attempt, qemu rc=$q)" >&2
  [ $attempt = 1 ] && [ $((LIMIT - SECONDS)) -gt 60 ] || break
done
set -e
[ -f "$CTL/rc" ] || { echo "run-in-vm: guest did not report an exit status (qemu rc=$q)" >&2; exit 125; }
exit "$(cat "$CTL/rc")"
