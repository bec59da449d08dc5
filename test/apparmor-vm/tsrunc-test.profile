# Profiles of the AppArmor suite (test/apparmor-vm/), loaded in the guest with apparmor_parser -r.
# Everything is allowed except writes under /denied: the container shows which of its writes the kernel refused.
abi <abi/3.0>,

profile tsrunc-test flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  deny /denied/** w,
}

# A second profile, for `exec --apparmor`: the same rules under another name.
profile tsrunc-test-exec flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  deny /denied/** w,
}
