/*
 * `delete` without Node, for the case containerd 1.6 makes on every task delete: its connection to the
 * shim closes and it runs `delete`, and waits for it, before it removes the bundle. When the server
 * deleted the container itself, it left DELETED_MARKER in the bundle; if that marker belongs to this
 * bundle's container and nothing is left (no state directory, no rootfs mount, no dead shim's socket),
 * there is nothing to clean and the answer is the one src/shim/service/cmd-delete.ts would give.
 * Anything else returns FALLBACK: the Node `delete` cleans up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "launch.h"

/* Whether `path` is a mount point in our mount namespace (mountinfo field 5, octal escapes decoded); -1 unknown. */
static int is_mount_point(const char *path)
{
	size_t len;
	char *text = read_file("/proc/self/mountinfo", 64 << 20, &len);
	if (!text)
		return -1;
	int found = 0;
	for (char *line = text; *line && !found;) {
		char *end = strchrnul(line, '\n');
		char *f = line;
		for (int i = 0; i < 4 && f < end; i++) {
			f = memchr(f, ' ', (size_t)(end - f));
			f = f ? f + 1 : end;
		}
		char mp[PATH_MAX];
		size_t n = 0;
		for (; f < end && *f != ' ' && n < sizeof mp - 1; f++) {
			if (*f == '\\' && end - f >= 4 && f[1] >= '0' && f[1] <= '3' && f[2] >= '0' && f[2] <= '7' && f[3] >= '0' && f[3] <= '7') {
				mp[n++] = (char)((f[1] - '0') << 6 | (f[2] - '0') << 3 | (f[3] - '0'));
				f += 3;
			} else {
				mp[n++] = *f;
			}
		}
		mp[n] = 0;
		found = strcmp(mp, path) == 0;
		line = *end ? end + 1 : end;
	}
	free(text);
	return found;
}

static size_t varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/*
 * containerd.task.v2.DeleteResponse { uint32 pid = 1; uint32 exit_status = 2; Timestamp exited_at = 3 },
 * encoded as src/shim/proto/delete-response.ts does: zero fields left out, the timestamp always present.
 */
static size_t delete_response(uint8_t *out, uint32_t pid, uint32_t status, const struct timespec *at)
{
	uint8_t ts[24];
	size_t t = 0, n = 0;
	if (at->tv_sec) {
		ts[t++] = 0x08;
		t += varint(ts + t, (uint64_t)at->tv_sec);
	}
	if (at->tv_nsec) {
		ts[t++] = 0x10;
		t += varint(ts + t, (uint64_t)at->tv_nsec);
	}
	if (pid) {
		out[n++] = 0x08;
		n += varint(out + n, pid);
	}
	if (status) {
		out[n++] = 0x10;
		n += varint(out + n, status);
	}
	out[n++] = 0x1a;
	out[n++] = (uint8_t)t;
	memcpy(out + n, ts, t);
	return n + t;
}

int cmd_delete(const struct flags *f)
{
	char bundle[PATH_MAX], path[PATH_MAX * 2];
	if (!valid_id(f->id))
		return FALLBACK;
	if (f->bundle[0])
		snprintf(bundle, sizeof bundle, "%s", f->bundle);
	else if (!getcwd(bundle, sizeof bundle))
		return FALLBACK;
	if (bundle[0] != '/' || !normalized(bundle))
		return FALLBACK;

	/* The marker: "v1 <inode of the bundle info file> <init pid>\n<state root>\n". */
	size_t len;
	snprintf(path, sizeof path, "%s/%s", bundle, DELETED_MARKER);
	char *m = read_file(path, 8192, &len);
	if (!m)
		return FALLBACK;
	unsigned long long ino = 0;
	unsigned pid = 0;
	int off = 0;
	char root[PATH_MAX];
	char *nl = strchr(m, '\n');
	int ok = sscanf(m, "v1 %llu %u%n", &ino, &pid, &off) == 2 && nl && m + off == nl && strlen(nl + 1) < sizeof root;
	if (ok) {
		snprintf(root, sizeof root, "%s", nl + 1);
		size_t rl = strlen(root);
		ok = rl > 1 && root[rl - 1] == '\n';
		if (ok) {
			root[rl - 1] = 0;
			ok = root[0] == '/' && normalized(root);
		}
	}
	free(m);
	if (!ok)
		return FALLBACK;

	/* The marker is this container's: the bundle info it saw is still the one in the bundle. */
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", bundle, BUNDLE_INFO);
	if (stat(path, &st) < 0 || (unsigned long long)st.st_ino != ino)
		return FALLBACK;
	/* Nothing left: no state directory... */
	snprintf(path, sizeof path, "%s/%s", root, f->id);
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return FALLBACK;
	/* ...no rootfs mount... */
	snprintf(path, sizeof path, "%s/rootfs", bundle);
	if (is_mount_point(path) != 0)
		return FALLBACK;
	/* ...and no socket file of a shim that died (one serving other containers keeps it). */
	snprintf(path, sizeof path, "%s/address", bundle);
	char *addr = read_file(path, 4096, &len);
	if (addr) {
		char *sock = addr;
		sock[strcspn(sock, "\n")] = 0;
		if (strncmp(sock, "unix://", 7) == 0)
			sock += 7;
		int dead = sock[0] == '/' && lstat(sock, &st) == 0 && !can_connect(sock);
		free(addr);
		if (dead)
			return FALLBACK;
	}

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint8_t out[64];
	size_t n = delete_response(out, pid, 128 + 9, &now);
	return write_all(1, out, n) < 0 ? 1 : 0;
}
