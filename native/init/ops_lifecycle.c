/* Stage 2, the end: report created, wait for start, find and execute the user's program. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/close_range.h>
#include "init.h"

void op_listen_start(struct reader *r)
{
	int dirfd = (int)rd_u64(r);
	const char *name = rd_str(r);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("socket");
	/* Bind relative to the state directory: its path may be longer than sun_path allows. */
	if (fchdir(dirfd) < 0)
		die_errno("chdir to the state directory");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0)
		die_errno("listen on %s", name);
	if (chdir("/") < 0)
		die_errno("chdir /");
	close(dirfd);
	ctx.start_listen_fd = fd;
}

void op_ready(struct reader *r)
{
	(void)r;
	send_msg(MSG_READY, NULL);
	ctx.runtime_state = strdup(wait_go());
	close(ctx.sync_fd);
	ctx.sync_fd = ctx.report_fd = -1;
}

void op_wait_start(struct reader *r)
{
	(void)r;
	for (;;) {
		int conn = accept4(ctx.start_listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		char c;
		ssize_t n = read(conn, &c, 1);
		if (n == 1 && c == 's') {
			ctx.report_fd = conn;
			break;
		}
		close(conn);
	}
	close(ctx.start_listen_fd);
	ctx.start_listen_fd = -1;
}

static int is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void op_find_exec(struct reader *r)
{
	const char *file = rd_str(r), *path = rd_str(r);
	if (strchr(file, '/')) {
		if (!is_executable(file))
			die_errno("exec: \"%s\"", file);
		snprintf(ctx.exec_path, sizeof(ctx.exec_path), "%s", file);
		return;
	}
	char *dirs = strdup(path), *save = NULL;
	for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char candidate[PATH_MAX];
		snprintf(candidate, sizeof(candidate), "%s/%s", *dir ? dir : ".", file);
		if (is_executable(candidate)) {
			snprintf(ctx.exec_path, sizeof(ctx.exec_path), "%s", candidate);
			free(dirs);
			return;
		}
	}
	free(dirs);
	die("exec: \"%s\": executable file not found in $PATH", file);
}

void op_cloexec_from(struct reader *r)
{
	unsigned int first_private = (unsigned int)rd_u64(r);
	/* No fd of ours may reach the user's program, whatever was opened without O_CLOEXEC. */
	if (syscall(SYS_close_range, first_private, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("close_range");
	if (ctx.report_fd >= 0 && fcntl(ctx.report_fd, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("fcntl");
}

void op_exec(struct reader *r)
{
	/* The seccomp filter may be in place: execve is the only call left (its arrays are built already). */
	(void)r;
	execve(ctx.exec_path, ctx.exec_argv, ctx.exec_envp);
	if (errno == E2BIG)
		die("exec %s: process.args and process.env are larger than the kernel allows for execve "
		    "(argument list too long)", ctx.exec_path);
	die_errno("exec %s", ctx.exec_path);
}

void op_sync(struct reader *r)
{
	const char *name = rd_str(r);
	send_msg(MSG_SYNC, name);
	const char *reply = wait_go();
	/* The state JSON for the hooks that follow (createContainer needs the real pid). */
	if (*reply) {
		free(ctx.sync_state);
		ctx.sync_state = strdup(reply);
	}
}
