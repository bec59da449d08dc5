/* Talking to the runtime: errors, progress messages and its replies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "init.h"

void send_msg(char tag, const char *payload)
{
	char buf[8192];
	int n = snprintf(buf, sizeof(buf), "%c%s", tag, payload ? payload : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* SEQPACKET for the sync socket, a stream for the start connection: one write either way. */
	if (send(ctx.report_fd, buf, n, MSG_NOSIGNAL) < 0 && tag != MSG_ERROR)
		_exit(1);
}

static __attribute__((noreturn)) void vdie(int with_errno, const char *fmt, va_list ap)
{
	char msg[4096];
	int saved = errno;
	int n = 0;
	if (cur_where && *cur_where)
		n = snprintf(msg, sizeof(msg), "%s: ", cur_where);
	n += vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	/* Lower case like Go's errors: engines (docker) match "no such file or directory" verbatim. */
	if (with_errno && n < (int)sizeof(msg) - 2) {
		int at = n + 2;
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
		if (msg[at] >= 'A' && msg[at] <= 'Z')
			msg[at] = (char)(msg[at] - 'A' + 'a');
	}
	send_msg(MSG_ERROR, msg);
	_exit(1);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(0, fmt, ap);
}

void die_errno(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(1, fmt, ap);
}

void send_fd(int sock, int fd, const char *payload, const char *what)
{
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = strlen(payload) };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		die_errno("send %s", what);
}

const char *wait_go(void)
{
	static char buf[65536];
	ssize_t n;
	do
		n = recv(ctx.sync_fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		die("the runtime went away");
	buf[n] = '\0';
	if (buf[0] == MSG_ABORT)
		_exit(1);
	if (buf[0] != MSG_GO)
		die("unexpected reply from the runtime");
	return buf + 1;
}
