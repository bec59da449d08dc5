/* Test helper: builds a filter with libseccomp from a line-based description on stdin and writes its BPF
 * (seccomp_export_bpf) to stdout, so tests can compare libseccomp's decisions with ours. Lines:
 *   default <action>      badarch <action>      arch <scmp arch token>
 *   rule <action> <name> <n> (<arg> <op> <datum_a> <datum_b>){n}
 * Numbers are decimal; a rule libseccomp refuses is reported on stderr and skipped. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char line[8192];
  scmp_filter_ctx ctx = NULL;
  unsigned long long badarch = SCMP_ACT_KILL_PROCESS;
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL, *word = strtok_r(line, " \n", &save);
    if (!word) continue;
    if (!strcmp(word, "default")) {
      ctx = seccomp_init((uint32_t)strtoull(strtok_r(NULL, " \n", &save), NULL, 10));
      if (!ctx) return 2;
      seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, (uint32_t)badarch);
    } else if (!strcmp(word, "arch")) {
      int rc = seccomp_arch_add(ctx, (uint32_t)strtoull(strtok_r(NULL, " \n", &save), NULL, 10));
      if (rc && rc != -EEXIST) fprintf(stderr, "arch_add: %d\n", rc);
    } else if (!strcmp(word, "rule")) {
      uint32_t action = (uint32_t)strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
      const char *name = strtok_r(NULL, " \n", &save);
      unsigned n = (unsigned)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      struct scmp_arg_cmp cmp[6];
      for (unsigned i = 0; i < n && i < 6; i++) {
        cmp[i].arg = (unsigned)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
        cmp[i].op = (enum scmp_compare)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
        cmp[i].datum_a = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
        cmp[i].datum_b = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
      }
      int nr = seccomp_syscall_resolve_name(name);
      if (nr == __NR_SCMP_ERROR) continue; /* unknown name: skipped, as runc does */
      int rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
      if (rc) fprintf(stderr, "rule %s: %d\n", name, rc);
    }
  }
  if (!ctx) return 2;
  return seccomp_export_bpf(ctx, 1) ? 3 : 0;
}
