/* Stage 1: joining and creating namespaces, then forking the container init. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/nsfs.h>
#include "init.h"

static const char *ns_name(int type)
{
	switch (type) {
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	default: return "unknown";
	}
}

/* Opened by OP_SETNS, joined by OP_JOIN_NS: once the user namespace is joined, /proc/<pid>/ns of a
 * process that is not dumpable for it (a created init) can no longer be opened. */
static struct {
	int fd, type;
	const char *where, *path;
} opened[16];
static int nopened;

void op_setns(struct reader *r)
{
	const char *path = rd_str(r);
	int type = (int)rd_u64(r);
	if (nopened == (int)(sizeof(opened) / sizeof(opened[0])))
		die("too many namespaces to join");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open %s", path);
	int actual = ioctl(fd, NS_GET_NSTYPE);
	if (actual < 0)
		die("%s is not a namespace", path);
	if (actual != type)
		die("%s is a %s namespace, not a %s namespace", path, ns_name(actual), ns_name(type));
	opened[nopened].fd = fd;
	opened[nopened].type = type;
	opened[nopened].where = cur_where;
	opened[nopened].path = path;
	nopened++;
}

void op_join_ns(struct reader *r)
{
	(void)r;
	/* In plan order: the user namespace first (it owns the others), the mount namespace last. */
	for (int i = 0; i < nopened; i++) {
		cur_where = opened[i].where;
		if (setns(opened[i].fd, opened[i].type) < 0)
			die_errno("join %s namespace %s", ns_name(opened[i].type), opened[i].path);
		close(opened[i].fd);
	}
	nopened = 0;
}

void op_unshare(struct reader *r)
{
	int flags = (int)rd_u64(r);
	if (unshare(flags) < 0)
		die_errno("unshare");
}

void op_userns_maps(struct reader *r)
{
	(void)r;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", getpid());
	/* An unprivileged runtime writes our maps as our owner: only a dumpable process's /proc files are
	 * its. Nobody else is in this new user namespace, and we are outside every container's pid ns. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	send_msg(MSG_MAPS, pid);
	wait_go();
	undumpable();
}

void op_timens_offsets(struct reader *r)
{
	const char *content = rd_str(r);
	/* After the uid change into a user namespace we are not dumpable, so /proc/self belongs to the
	 * host's root: be dumpable again to open our own file, and not a moment longer. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open /proc/self/timens_offsets");
	undumpable();
	if (write(fd, content, strlen(content)) < 0)
		die_errno("write time offsets");
	close(fd);
}

void op_fork(struct reader *r)
{
	(void)r;
	/* The child waits until its pid is on the socket: every later message (hook state, READY)
	 * needs the runtime to know it, and under load the parent may be scheduled late. */
	int gate[2];
	if (pipe2(gate, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		char c;
		close(gate[1]);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		close(gate[0]);
		return;
	}
	/* The intermediate: tell the runtime who the init is, then leave it to be reparented. */
	char msg[32];
	snprintf(msg, sizeof(msg), "%d", pid);
	send_msg(MSG_PID, msg);
	_exit(0); /* closes the gate */
}

void op_setsid(struct reader *r)
{
	(void)r;
	if (setsid() < 0)
		die_errno("setsid");
}

/*
 * OP_PIN_PID / OP_CHECK_PIN. exec opens the init's namespaces (and, without a mount namespace, its
 * root) by /proc/<pid>: a number that names another process once the init has been reaped. The pin,
 * /proc/<pid>/stat opened after the runtime checked the init's start time, refers to that one process
 * for good: read again once everything is opened, it fails if the process is gone, in which case the
 * number may have named a newer process in between, whose namespaces must not be joined.
 */
static int pin_fd = -1;
static unsigned long long pin_start;

/* Field 22 of /proc/<pid>/stat, counted from the last ')' (the command name may hold spaces and ')'). */
static int read_start_time(int fd, unsigned long long *start)
{
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	for (int field = 3; p && field <= 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	*start = strtoull(p + 1, NULL, 10);
	return 0;
}

void op_pin_pid(struct reader *r)
{
	int pid = (int)rd_u64(r);
	unsigned long long want = rd_u64(r), start;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_start_time(fd, &start) < 0 || start != want)
		die("the container's init (pid %d) has exited", pid);
	pin_fd = fd;
	pin_start = want;
}

void op_check_pin(struct reader *r)
{
	(void)r;
	unsigned long long start;
	if (pin_fd < 0)
		die("no process pinned");
	if (read_start_time(pin_fd, &start) < 0 || start != pin_start)
		die("the container's init has exited");
	close(pin_fd);
	pin_fd = -1;
}
