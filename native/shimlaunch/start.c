/*
 * `start` without Node: the steps of src/shim/service/cmd-start.ts for the common case, a new shim or a
 * live group shim joined (reserve.c), with no options or options that only group (options.c). Anything this
 * file does not decide with certainty (other options, a config.json it does not fully understand, an
 * unexpected error before the server exists) returns FALLBACK, and the Node `start` does it all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "group.h"
#include "launch.h"

/* Annotations that put containers in one shim, in order (runc's shim: a pod's containers share one). */
static const char *const GROUP_KEYS[] = { "io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id", NULL };
/* The group of every container of a namespace with {"group": "namespace"} (cmd-start.ts). */
#define NAMESPACE_GROUP ".tsrunc-namespace"

static void mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0700);
		*s = '/';
	}
	mkdir(p, 0700);
}

/*
 * The detached server: a new session (outside containerd's process group, so killing containerd cannot
 * take it down), stdio on /dev/null, the listening socket as fd 3, nothing else. An exec failure comes
 * back through a close-on-exec pipe.
 */
static pid_t spawn_server(int lfd, const struct flags *f, const char *address)
{
	char script[PATH_MAX];
	node_script(script, sizeof script);
	/* No V8 flags: any one (even a default value) makes V8 reject the code cache built into node for its own
	 * modules, and the server then compiles net, stream and child_process from source (~8 ms a start). */
	const char *args[] = { "node", script, "-namespace", f->namespace, "-id", f->id,
		"-address", f->address, "-publish-binary", f->publish_binary, "-socket", address, f->debug ? "-debug" : NULL, NULL };
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		int err = 0;
		int hi_l = fcntl(lfd, F_DUPFD_CLOEXEC, 64), hi_p = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 64);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (hi_l < 0 || hi_p < 0 || nul < 0 || setsid() < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
		    dup2(hi_l, 3) < 0) {
			err = errno;
		} else {
			/* Whatever containerd left open stays out of the server (it sets close-on-exec itself, too). */
			syscall(SYS_close_range, 4, ~0U, CLOSE_RANGE_CLOEXEC);
			execvp(args[0], (char **)args);
			err = errno;
		}
		if (hi_p >= 0)
			write_all(hi_p, &err, sizeof err);
		_exit(127);
	}
	close(pipefd[1]);
	int err = 0;
	ssize_t n;
	do
		n = read(pipefd[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n > 0) {
		waitpid(pid, NULL, 0);
		errno = err;
		return -1;
	}
	return pid;
}

/* The shim ranks just above containerd for the OOM killer, as containerd's shims do. */
static void adjust_oom_score(pid_t pid)
{
	char path[64], buf[32];
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)getppid());
	char *s = read_file(path, 64, &len);
	if (!s)
		return;
	int v = atoi(s) + 1;
	free(s);
	snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
	snprintf(buf, sizeof buf, "%d", v > 1000 ? 1000 : v);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		write_all(fd, buf, strlen(buf));
		close(fd);
	}
}

#define JOINED (-2)
#define GAVE_UP (-3)

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The listening socket of a new shim for the group, or JOINED: the group's live shim took a reservation
 * for container `id`. A shim that is shutting down refuses; its socket file goes before it closes, and we
 * bind then (GAVE_UP after 10 s). -1 with errno: bind failed otherwise (the Node `start` says why).
 */
static int bind_or_join(const char *sock, const char *id)
{
	for (int tries = 0; tries < 1000; tries++) {
		int lfd = bind_listen(sock);
		if (lfd >= 0 || errno != EADDRINUSE)
			return lfd;
		if (!can_connect(sock)) {
			unlink(sock);
			continue;
		}
		if (reserve_shim(sock, id, 5000) != RESERVE_GOING)
			return JOINED; /* reserved, or silent: a shim too busy, or one without reservations */
		sleep_ms(10);
	}
	fprintf(stderr, "containerd-shim-tsrunc-v2: the shim on %s is shutting down, and its socket did not go\n", sock);
	return GAVE_UP;
}

/*
 * Hand containerd the address of the group's shim. Its pid is in <socket>.pid; a concurrent `start` that
 * just bound the socket writes it right after spawning the server, so wait a bounded moment for it.
 */
static int answer_joined(const char *pidfile, const char *address)
{
	for (int i = 0; i < 300; i++) {
		size_t len;
		char *pid = read_file(pidfile, 32, &len);
		if (pid) {
			int r = write_atomic("shim.pid", pid);
			free(pid);
			if (r < 0) {
				fprintf(stderr, "containerd-shim-tsrunc-v2: write shim.pid: %s\n", strerror(errno));
				return 1;
			}
			break;
		}
		sleep_ms(10);
	}
	/* (no pid file: a shim started by an older version; containerd does not need shim.pid) */
	if (write_atomic("address", address) < 0 || write_all(1, address, strlen(address)) < 0) {
		fprintf(stderr, "containerd-shim-tsrunc-v2: write address: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int cmd_start(const struct flags *f)
{
	if (!valid_id(f->id) || !f->address[0])
		return FALLBACK;
	int grouping = options_grouping();
	if (grouping == FALLBACK)
		return FALLBACK;
	if (grouping == OPTIONS_UNREADABLE) {
		fprintf(stderr, "containerd-shim-tsrunc-v2: read the shim options on stdin: %s\n", strerror(errno));
		return 1;
	}
	size_t len;
	char *cfg = read_file("config.json", 64 << 20, &len);
	if (!cfg)
		return FALLBACK;
	/* cmd-start.ts's groupOf: the namespace's shim, or the container's sandbox, else the container's own
	 * (config.json is read either way: one that JSON.parse rejects fails the Node `start`) */
	const char *group = f->id;
	size_t glen = strlen(f->id);
	if (find_group(cfg, len, GROUP_KEYS, &group, &glen) < 0) {
		free(cfg);
		return FALLBACK;
	}
	if (grouping == GROUP_NAMESPACE) {
		group = NAMESPACE_GROUP;
		glen = strlen(NAMESPACE_GROUP);
	}

	char sock[SOCKET_PATH_MAX], address[SOCKET_PATH_MAX + 7], pidfile[SOCKET_PATH_MAX + 4];
	int named = shim_socket_path(f->address, f->namespace, group, glen, sock);
	free(cfg);
	if (named < 0)
		return FALLBACK;
	snprintf(address, sizeof address, "unix://%s", sock);
	snprintf(pidfile, sizeof pidfile, "%s.pid", sock);

	/* bind is the atomic test of "a shim for this group exists"; a stale socket file is replaced. */
	mkdir_p(SOCKET_DIR);
	int lfd = bind_or_join(sock, f->id);
	if (lfd == JOINED)
		return answer_joined(pidfile, address);
	if (lfd == GAVE_UP)
		return 1;
	if (lfd < 0)
		return FALLBACK;
	chmod(sock, 0600);
	pid_t pid = spawn_server(lfd, f, address);
	if (pid < 0) {
		fprintf(stderr, "containerd-shim-tsrunc-v2: start the shim server: %s\n", strerror(errno));
		unlink(sock);
		return 1;
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%d", (int)pid);
	/* Later starts of the group find the server's pid in <socket>.pid (the server removes it). */
	if (write_atomic("shim.pid", buf) < 0 || write_atomic(pidfile, buf) < 0) {
		fprintf(stderr, "containerd-shim-tsrunc-v2: write pid files: %s\n", strerror(errno));
		return 1;
	}
	adjust_oom_score(pid);
	if (write_atomic("address", address) < 0 || write_all(1, address, strlen(address)) < 0) {
		fprintf(stderr, "containerd-shim-tsrunc-v2: write address: %s\n", strerror(errno));
		return 1;
	}
	/* Exit without unlinking the socket: the server owns the path now. */
	return 0;
}
