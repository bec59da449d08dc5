/* Stage 2, the process: identity, credentials, capabilities, limits and seccomp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "init.h"

void op_hostname(struct reader *r)
{
	const char *name = rd_str(r);
	if (sethostname(name, strlen(name)) < 0)
		die_errno("sethostname %s", name);
}

void op_domainname(struct reader *r)
{
	const char *name = rd_str(r);
	if (setdomainname(name, strlen(name)) < 0)
		die_errno("setdomainname %s", name);
}

void op_rlimit(struct reader *r)
{
	int resource = (int)rd_u64(r);
	struct rlimit lim = { .rlim_cur = rd_u64(r), .rlim_max = rd_u64(r) };
	if (setrlimit(resource, &lim) < 0)
		die_errno("setrlimit");
}

void op_umask(struct reader *r)
{
	umask((mode_t)rd_u64(r));
}

void op_oom_score_adj(struct reader *r)
{
	char value[32];
	snprintf(value, sizeof(value), "%d", (int)(int64_t)rd_u64(r));
	/* Stage 1, before any namespace is joined: the runtime's own /proc; children inherit the value. */
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		die_errno("write oom_score_adj %s", value);
	close(fd);
}

void op_no_new_privs(struct reader *r)
{
	(void)r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("set no_new_privs");
}

void op_setgroups(struct reader *r)
{
	uint32_t n;
	uint64_t *ids = rd_u64v(r, &n);
	gid_t *gids = calloc(n + 1, sizeof(gid_t));
	for (uint32_t i = 0; i < n; i++)
		gids[i] = (gid_t)ids[i];
	if (setgroups(n, gids) < 0)
		die_errno("setgroups");
	undumpable();
	free(gids);
	free(ids);
}

void op_setgid(struct reader *r)
{
	gid_t gid = (gid_t)rd_u64(r);
	if (setresgid(gid, gid, gid) < 0)
		die_errno("setgid %u", gid);
	/* A change of credentials resets dumpability to fs.suid_dumpable (which may be 1). */
	undumpable();
}

void op_setuid(struct reader *r)
{
	uid_t uid = (uid_t)rd_u64(r);
	/* Keep the permitted set across the change of uid; OP_CAPS sets the final sets. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die_errno("keep capabilities");
	if (setresuid(uid, uid, uid) < 0)
		die_errno("setuid %u", uid);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	undumpable();
}

/* A filter waiting for OP_CAPS (process.noNewPrivileges false): loaded there, while still privileged. */
static struct {
	struct sock_fprog prog;
	unsigned int flags;
	int listener;
} pending = { .listener = -1 };

/* Load the filter; with a listener, its notify fd goes to the agent (the one call that must follow). */
static void load_filter(const struct sock_fprog *prog, unsigned int flags, int listener, const char *state)
{
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
	if (rc < 0)
		die_errno("load the seccomp filter");
	/* Both fds are close-on-exec (the notify fd from the kernel, the listener since OP_CLOEXEC_FROM). */
	if (listener >= 0)
		send_fd(listener, (int)rc, state, "the seccomp notify fd to the listener");
}

void op_caps(struct reader *r)
{
	uint64_t bounding = rd_u64(r), effective = rd_u64(r), permitted = rd_u64(r);
	uint64_t inheritable = rd_u64(r), ambient = rd_u64(r);
	int last = ctx.cap_last;
	/* Everything that reads or raises comes first: after a change of uid only the permitted set is
	 * left, raised to effective here so that the bounding set can be dropped (and a pending filter
	 * loaded without no_new_privs). */
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct cur[2];
	if (syscall(SYS_capget, &hdr, cur) < 0)
		die_errno("capget");
	cur[0].effective = cur[0].permitted;
	cur[1].effective = cur[1].permitted;
	if (syscall(SYS_capset, &hdr, cur) < 0)
		die_errno("capset");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	uint64_t drop = 0;
	for (int cap = 0; cap <= last && cap < 64; cap++)
		if (!(bounding >> cap & 1) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			drop |= 1ULL << cap;

	struct __user_cap_data_struct data[2] = {
		{ (uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable },
		{ (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32) },
	};
	if (pending.prog.filter) {
		/* What follows the filter is exactly this: refuse now what it would block (the profile's fault). */
		const char *where = cur_where;
		cur_where = "linux.seccomp";
		const struct sock_filter *f = pending.prog.filter;
		size_t n = pending.prog.len;
		uint64_t args[6] = { 0 };
		seccomp_check_exec(f, n);
		for (int cap = 0; cap < 64; cap++) {
			args[0] = PR_CAPBSET_DROP, args[1] = (uint64_t)cap;
			if ((drop >> cap & 1) && !seccomp_allows(f, n, SYS_prctl, args))
				die("the seccomp profile blocks prctl(PR_CAPBSET_DROP), which dropping capabilities needs after "
				    "the filter is loaded (with process.noNewPrivileges false it goes in while privileged)");
			args[0] = PR_CAP_AMBIENT, args[1] = PR_CAP_AMBIENT_RAISE, args[2] = (uint64_t)cap;
			if ((ambient >> cap & 1) && !seccomp_allows(f, n, SYS_prctl, args))
				die("the seccomp profile blocks prctl(PR_CAP_AMBIENT), which raising ambient capabilities needs "
				    "after the filter is loaded");
			args[2] = 0;
		}
		args[0] = (uint64_t)(uintptr_t)&hdr, args[1] = (uint64_t)(uintptr_t)data;
		if (!seccomp_allows(f, n, SYS_capset, args))
			die("the seccomp profile blocks capset, which dropping capabilities needs after the filter is loaded "
			    "(with process.noNewPrivileges false it goes in while privileged)");
		load_filter(&pending.prog, pending.flags, pending.listener, ctx.runtime_state ? ctx.runtime_state : "{}");
		cur_where = where;
	}
	/* From here on only privilege drops (and, with a filter, they are all it allows before execve). */
	for (int cap = 0; cap < 64; cap++)
		if ((drop >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			die_errno("drop capability %d from the bounding set", cap);
	if (syscall(SYS_capset, &hdr, data) < 0)
		die_errno("capset");
	for (int cap = 0; cap <= last && cap < 64; cap++)
		if ((ambient >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die_errno("raise ambient capability %d", cap);
	/* Dropping capabilities (a subset) leaves dumpability alone: nothing to restore. */
}

void op_seccomp(struct reader *r)
{
	unsigned int flags = (unsigned int)rd_u64(r);
	uint32_t len;
	const void *filter = rd_blob(r, &len);
	int listener = (int)(int64_t)rd_u64(r);
	int deferred = (int)rd_u64(r);
	/* Copy: the program must be aligned for the kernel. */
	struct sock_filter *insns = malloc(len);
	if (!insns)
		die_errno("malloc");
	memcpy(insns, filter, len);
	struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = insns };
	/* The listener gets the process state: an exec asks the runtime for it now, before the filter. */
	const char *state = ctx.runtime_state;
	if (listener >= 0 && !state && ctx.sync_fd >= 0) {
		send_msg(MSG_SYNC, "seccomp-listener");
		state = strdup(wait_go());
		ctx.runtime_state = (char *)state;
	}
	if (deferred) {
		pending.prog = prog;
		pending.flags = flags;
		pending.listener = listener;
		return;
	}
	seccomp_check_exec(insns, prog.len);
	if (listener >= 0) {
		uint64_t args[6] = { (uint64_t)listener };
		if (!seccomp_allows(insns, prog.len, SYS_sendmsg, args))
			die("the seccomp profile blocks sendmsg, which handing the notify fd to linux.seccomp.listenerPath needs");
	}
	load_filter(&prog, flags, listener, state ? state : "{}");
}

void op_personality(struct reader *r)
{
	if (personality((unsigned long)rd_u64(r)) < 0)
		die_errno("personality");
}

/* linux/sched/types.h clashes with glibc's sched.h; this is its struct sched_attr. */
struct sched_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

void op_scheduler(struct reader *r)
{
	struct sched_attr attr = { .size = sizeof(attr) };
	attr.sched_policy = (uint32_t)rd_u64(r);
	attr.sched_priority = (uint32_t)rd_u64(r);
	attr.sched_flags = rd_u64(r);
	attr.sched_nice = (int32_t)(int64_t)rd_u64(r);
	attr.sched_runtime = rd_u64(r);
	attr.sched_deadline = rd_u64(r);
	attr.sched_period = rd_u64(r);
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		die_errno("sched_setattr");
}

void op_ioprio(struct reader *r)
{
	int value = (int)rd_u64(r);
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) < 0)
		die_errno("ioprio_set");
}

void op_cpu_affinity(struct reader *r)
{
	const char *list = rd_str(r);
	cpu_set_t set;
	CPU_ZERO(&set);
	char *copy = strdup(list), *save = NULL;
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		unsigned long lo, hi;
		char *dash = strchr(part, '-');
		lo = strtoul(part, NULL, 10);
		hi = dash ? strtoul(dash + 1, NULL, 10) : lo;
		for (unsigned long cpu = lo; cpu <= hi && cpu < CPU_SETSIZE; cpu++)
			CPU_SET(cpu, &set);
	}
	free(copy);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die_errno("set cpu affinity %s", list);
}

void op_session_keyring(struct reader *r)
{
	const char *name = rd_str(r);
	/* KEYCTL_JOIN_SESSION_KEYRING = 1; ENOSYS means keyrings are not built in: nothing to isolate. */
	if (syscall(SYS_keyctl, 1, name) < 0 && errno != ENOSYS)
		die_errno("join session keyring %s", name);
}

void op_close_fd(struct reader *r)
{
	close((int)rd_u64(r));
}
