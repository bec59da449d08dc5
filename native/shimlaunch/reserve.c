/*
 * Joining a live group shim: the reservation of src/shim/service/reserve.ts, in C, so that the start of a
 * pod's second container (and every later one) runs no Node at all. One ttrpc call on the Task socket,
 * Connect(ConnectRequest{id}) with metadata RESERVE_KEY=id; the shim answers OK (it stays until this
 * container's Create) or Unavailable (it is shutting down). The same frames, byte for byte, as reserve.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
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

/* Sends or receives all n bytes: 0, or -1 with errno (EAGAIN: the socket's timeout passed). */
static int transfer(int fd, uint8_t *buf, size_t n, int out)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? send(fd, buf + done, n - done, MSG_NOSIGNAL) : recv(fd, buf + done, n - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int reserve_shim(const char *path, const char *id, int timeout_ms)
{
	uint8_t frame[4096];
	size_t flen = connect_frame(id, frame, sizeof frame);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!flen || strlen(path) >= sizeof sa.sun_path)
		return RESERVE_SILENT;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return RESERVE_SILENT;
	/* Each step waits at most timeout_ms: a connect while the backlog is full, the send, the answer. */
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	uint8_t in[HEADER_LENGTH + MAX_RESPONSE];
	uint32_t len = 0;
	int64_t code;
	int result;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || transfer(fd, frame, flen, 1) < 0 || transfer(fd, in, HEADER_LENGTH, 0) < 0)
		goto failed;
	len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	uint32_t stream = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	/* not the answer to our request: not a shim of ours that can be trusted to stay */
	if (stream != 1 || in[8] != TYPE_RESPONSE) {
		result = RESERVE_GOING;
		goto out;
	}
	if (len > MAX_RESPONSE) {
		result = RESERVE_SILENT;
		goto out;
	}
	if (transfer(fd, in + HEADER_LENGTH, len, 0) < 0)
		goto failed;
	if (status_code(in + HEADER_LENGTH, in + HEADER_LENGTH + len, &code) < 0)
		result = RESERVE_SILENT;
	else
		result = code == 0 ? RESERVE_OK : code == GRPC_UNAVAILABLE ? RESERVE_GOING : RESERVE_SILENT;
	goto out;
failed:
	/* no answer in time: a shim too busy; a failed or closed connection: a dying or dead shim */
	result = errno == EAGAIN ? RESERVE_SILENT : RESERVE_GOING;
out:
	close(fd);
	return result;
}
