/*
 * Stage 2, Linux security modules: the AppArmor profile and the SELinux label that the kernel applies at
 * the final execve.  Written through the trusted procfs (ctx.proc_fd), never through the container's /proc,
 * while tsrunc-init still runs unconfined: the profile confines the user's program, not our own setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "init.h"

/* Write `value` to /proc/self/<attr> (the first of the names that exists) in one write(2). */
static int write_attr(const char *const names[], const char *value)
{
	if (ctx.private_closed)
		die("the trusted procfs is already closed: the LSM step must come before it is (plan order)");
	/* exec writes it in stage 1, still in the runtime's namespaces: the runtime's own /proc (the attribute
	 * survives setns and fork until the final execve). */
	int procfd = ctx.proc_fd;
	struct statfs sfs;
	if (procfd < 0 && ((procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
			   fstatfs(procfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC))
		die("no procfs to set the exec attribute through");
	int fd = -1;
	for (int i = 0; names[i] && fd < 0; i++) {
		fd = openat(procfd, names[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			die_errno("open /proc/%s", names[i]);
	}
	if (fd < 0)
		die("the kernel has no /proc/%s", names[0]);
	ssize_t n;
	do
		n = write(fd, value, strlen(value));
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? errno : 0;
	close(fd);
	if (procfd != ctx.proc_fd)
		close(procfd);
	return err;
}

void op_apparmor(struct reader *r)
{
	const char *profile = rd_str(r);
	/* attr/apparmor/ since Linux 5.8 (LSM stacking); attr/exec before, shared by whichever LSM is active */
	static const char *const names[] = { "self/attr/apparmor/exec", "self/attr/exec", NULL };
	char cmd[PATH_MAX + 8];
	if ((size_t)snprintf(cmd, sizeof(cmd), "exec %s", profile) >= sizeof(cmd))
		die("AppArmor profile name too long");
	int err = write_attr(names, cmd);
	if (err == ENOENT)
		die("AppArmor profile \"%s\" is not loaded", profile);
	if (err) {
		errno = err;
		die_errno("apply AppArmor profile \"%s\"", profile);
	}
}

void op_selinux_label(struct reader *r)
{
	const char *label = rd_str(r);
	static const char *const names[] = { "self/attr/exec", NULL };
	int err = write_attr(names, label);
	if (err == EINVAL)
		die("SELinux label \"%s\" is not valid in the loaded policy", label);
	if (err) {
		errno = err;
		die_errno("set the SELinux exec label \"%s\"", label);
	}
}
