/*
 * Joining a live group shim: the reservation of src/shim/service/reserve.ts, in C, so that the start of a
 * pod's second container (and every later one) runs no Node at all. One ttrpc call on the Task socket,
 * Connect(ConnectRequest{id}) with metadata RESERVE_KEY=id; the shim answers OK (it stays until this
 * container's Create) or Unavailable (it is shutting down). The same frames, byte for byte, as reserve.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "launch.h"
#include "pb.h"

#define RESERVE_KEY "tsrunc-reserve"
#define HEADER_LENGTH 10
#define TYPE_REQUEST 1
#define TYPE_RESPONSE 2
#define GRPC_UNAVAILABLE 14
/* A Response that answers Connect is a few bytes; anything longer is not one of ours. */
#define MAX_RESPONSE 4096

/* ttrpc Request { service = 1; method = 2; payload = 3; metadata = 5 (KeyValue { key = 1; value = 2 }) }. */
static size_t connect_frame(const char *id, uint8_t *out, size_t cap)
{
	size_t idlen = strlen(id);
	uint8_t payload[1100], kv[1200];
	struct pb_buf p = { payload, 0, sizeof payload, 0 }, m = { kv, 0, sizeof kv, 0 };
	pb_put_bytes(&p, 1, id, idlen);
	pb_put_bytes(&m, 1, RESERVE_KEY, strlen(RESERVE_KEY));
	pb_put_bytes(&m, 2, id, idlen);
	struct pb_buf f = { out + HEADER_LENGTH, 0, cap - HEADER_LENGTH, 0 };
	pb_put_bytes(&f, 1, "containerd.task.v2.Task", strlen("containerd.task.v2.Task"));
	pb_put_bytes(&f, 2, "Connect", strlen("Connect"));
	pb_put_bytes(&f, 3, payload, p.n);
	pb_put_bytes(&f, 5, kv, m.n);
	if (p.overflow || m.overflow || f.overflow)
		return 0;
	/* header: length (big-endian), stream id 1, type, flags */
	uint32_t len = (uint32_t)f.n;
	uint8_t h[HEADER_LENGTH] = { len >> 24, len >> 16, len >> 8, len, 0, 0, 0, 1, TYPE_REQUEST, 0 };
	memcpy(out, h, HEADER_LENGTH);
	return HEADER_LENGTH + f.n;
}

/* Response.status.code: field 1 (Status) of the Response, then field 1 (int32) of it; 0 when absent. */
static int status_code(const uint8_t *p, const uint8_t *end, int64_t *code)
{
	struct pb_field f;
	int r;
	*code = 0;
	while ((r = pb_next(&p, end, &f)) > 0) {
		if (f.number != 1 || f.wire != 2)
			continue;
		const uint8_t *s = f.data, *send = f.data + f.len;
		struct pb_field g;
		while ((r = pb_next(&s, send, &g)) > 0)
			if (g.number == 1 && g.wire == 0)
				*code = (int32_t)g.v;
		if (r < 0)
			return -1;
	}
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

int reserve_shim(const char *path, const char *id, int timeout_ms)
{
	uint8_t frame[4096];
	size_t flen = connect_frame(id, frame, sizeof frame);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!flen || strlen(path) >= sizeof sa.sun_path)
		return RESERVE_SILENT;
	strcpy(sa.sun_path, path);
	long long deadline = now_ms() + timeout_ms;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return RESERVE_SILENT;
	int result = RESERVE_GOING; /* a failed connection or one closed unanswered: a dying or dead shim */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			goto out;
		/* A full backlog: wait until it takes us. */
		int w = wait_fd(fd, POLLOUT, deadline);
		int err = 0;
		socklen_t len = sizeof err;
		if (w == 0) {
			result = RESERVE_SILENT;
			goto out;
		}
		if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			goto out;
	}
	for (size_t sent = 0; sent < flen;) {
		ssize_t n = send(fd, frame + sent, flen - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int w = wait_fd(fd, POLLOUT, deadline);
			if (w == 0)
				result = RESERVE_SILENT;
			if (w <= 0)
				goto out;
			continue;
		}
		if (n <= 0)
			goto out;
		sent += (size_t)n;
	}
	uint8_t in[HEADER_LENGTH + MAX_RESPONSE];
	size_t got = 0, want = HEADER_LENGTH;
	while (got < want) {
		ssize_t n = recv(fd, in + got, want - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w == 0)
				result = RESERVE_SILENT;
			if (w <= 0)
				goto out;
			continue;
		}
		if (n <= 0)
			goto out;
		got += (size_t)n;
		if (got == HEADER_LENGTH && want == HEADER_LENGTH) {
			uint32_t len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
			uint32_t stream = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
			if (stream != 1 || in[8] != TYPE_RESPONSE)
				goto out;
			if (len > MAX_RESPONSE) {
				result = RESERVE_SILENT;
				goto out;
			}
			want = HEADER_LENGTH + len;
		}
	}
	int64_t code;
	if (status_code(in + HEADER_LENGTH, in + want, &code) < 0)
		result = RESERVE_SILENT;
	else
		result = code == 0 ? RESERVE_OK : code == GRPC_UNAVAILABLE ? RESERVE_GOING : RESERVE_SILENT;
out:
	close(fd);
	return result;
}
