/*
 * OCI hooks that run inside the container: createContainer (before pivot_root, so the path is the
 * host's) and startContainer (after start released us, path in the container).  The state JSON the
 * runtime last sent goes to the hook's stdin; its output is kept for the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include "init.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The hook's combined stdout/stderr, first bytes only, trailing whitespace trimmed. */
struct output {
	char buf[1024];
	size_t len;
};

static int drain(int fd, struct output *o)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n > 0) {
			size_t room = sizeof(o->buf) - 1 - o->len, take = (size_t)n < room ? (size_t)n : room;
			memcpy(o->buf + o->len, tmp, take);
			o->len += take;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n == 0 ? 0 : (errno == EAGAIN ? 1 : 0); /* 1: still open */
	}
}

static const char *output_text(struct output *o)
{
	while (o->len && (o->buf[o->len - 1] == '\n' || o->buf[o->len - 1] == ' ' || o->buf[o->len - 1] == '\t'))
		o->len--;
	o->buf[o->len] = '\0';
	return o->buf;
}

static __attribute__((noreturn)) void exec_hook(const char *path, char **argv, char **env, int in, int out)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	/* Nothing of ours (sync socket, state dir, preserved fds) reaches the hook. */
	syscall(SYS_close_range, 3, ~0U, 0);
	execve(path, argv, env);
	dprintf(2, "exec %s: %s", path, strerror(errno));
	_exit(127);
}

void op_hook(struct reader *r)
{
	const char *path = rd_str(r);
	char **argv = rd_strv(r), **env = rd_strv(r);
	uint64_t timeout = rd_u64(r);
	/* After OP_READY the runtime's "created" state; before, what OP_SYNC "state" fetched. */
	const char *state = ctx.runtime_state ? ctx.runtime_state : ctx.sync_state ? ctx.sync_state : "";
	size_t state_len = strlen(state), written = 0;

	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0)
		exec_hook(path, argv, env, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die_errno("pidfd_open");
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	/* A hook that does not read its stdin must not kill us with SIGPIPE. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);

	struct output o = { .len = 0 };
	int in_fd = in[1], out_fd = out[0], timed_out = 0;
	if (state_len == 0) {
		close(in_fd);
		in_fd = -1;
	}
	long long deadline = timeout ? now_ms() + (long long)timeout * 1000 : 0;
	for (;;) {
		struct pollfd p[3] = { { .fd = pidfd, .events = POLLIN } };
		int n = 1, in_at = -1, out_at = -1;
		if (in_fd >= 0)
			p[in_at = n++] = (struct pollfd){ .fd = in_fd, .events = POLLOUT };
		if (out_fd >= 0)
			p[out_at = n++] = (struct pollfd){ .fd = out_fd, .events = POLLIN };
		int wait = -1;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				timed_out = 1;
				kill(pid, SIGKILL);
				break;
			}
			wait = left > 60000 ? 60000 : (int)left;
		}
		if (poll(p, n, wait) < 0) {
			if (errno == EINTR)
				continue;
			die_errno("poll");
		}
		if (in_at >= 0 && p[in_at].revents) {
			ssize_t w = write(in_fd, state + written, state_len - written);
			if (w > 0)
				written += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == state_len) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (out_at >= 0 && p[out_at].revents && !drain(out_fd, &o)) {
			close(out_fd);
			out_fd = -1;
		}
		if (p[0].revents)
			break;
	}

	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* What the hook wrote before it exited (a child it left behind may keep the pipe open). */
	if (out_fd >= 0) {
		drain(out_fd, &o);
		close(out_fd);
	}
	if (in_fd >= 0)
		close(in_fd);
	close(pidfd);
	sigaction(SIGPIPE, &old, NULL);

	const char *text = output_text(&o), *sep = *text ? ": " : "";
	if (timed_out)
		die("timed out after %llu s (killed)%s%s", (unsigned long long)timeout, sep, text);
	if (WIFSIGNALED(status))
		die("killed by signal %d%s%s", WTERMSIG(status), sep, text);
	if (WEXITSTATUS(status) != 0)
		die("exit status %d%s%s", WEXITSTATUS(status), sep, text);
}
