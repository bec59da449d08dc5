/*
 * The shim options containerd writes to `start`'s stdin (an Any), read here when they decide nothing but
 * the grouping: runtimeoptions.v1.Options (what `ctr run --runtime-config-path` and CRI's ConfigPath send
 * for a non-runc runtime) naming a config file or body {"group": "sandbox"|"namespace", "root": "/abs"}.
 * The rules are src/shim/service/options.ts's; anything they would reject, or that needs more than this
 * (containerd.runc.v1.Options), is the Node `start`'s, which then finds the same bytes on its stdin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "group.h"
#include "launch.h"
#include "pb.h"

/* Far more than any options message or config file (as for config.json). */
#define MAX_OPTIONS (64 << 20)
#define MAX_CONFIG (64 << 20)

/* What was read from stdin, to be put back for the Node shim (options_restore_stdin). */
static char *g_bytes;
static size_t g_len;

/* No options: containerd leaves stdin at /dev/null when it has none. */
static int stdin_empty(void)
{
	struct stat st;
	if (fstat(0, &st) < 0)
		return errno == EBADF;
	if (S_ISCHR(st.st_mode))
		return st.st_rdev == makedev(1, 3);
	return S_ISREG(st.st_mode) && st.st_size == 0;
}

void options_restore_stdin(void)
{
	if (!g_bytes)
		return;
	/* A memfd holds the bytes as a file (the Node shim reads fd 0 with readFileSync); nothing read: /dev/null. */
	int fd = g_len ? memfd_create("shim-options", 0) : open("/dev/null", O_RDONLY);
	if (fd < 0 || (g_len && (write_all(fd, g_bytes, g_len) < 0 || lseek(fd, 0, SEEK_SET) < 0)) || dup2(fd, 0) < 0) {
		/* Without them the Node shim would start with other options than containerd's: it must not start. */
		close(0);
	}
	if (fd > 0)
		close(fd);
	free(g_bytes);
	g_bytes = NULL;
}

static int ascii_only(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x7f || s[i] == 0)
			return 0;
	return 1;
}

int options_config_grouping(const char *json, size_t n)
{
	static const char *const keys[] = { "group", "root", NULL };
	struct json_str found[2];
	if (json_find_strings(json, n, NULL, keys, found) < 0)
		return FALLBACK;
	/* root must be an absolute path (the server uses it; a bad one is Node's error to report) */
	if (found[1].s && (found[1].n == 0 || found[1].s[0] != '/'))
		return FALLBACK;
	if (!found[0].s)
		return GROUP_SANDBOX;
	if (found[0].n == 7 && memcmp(found[0].s, "sandbox", 7) == 0)
		return GROUP_SANDBOX;
	if (found[0].n == 9 && memcmp(found[0].s, "namespace", 9) == 0)
		return GROUP_NAMESPACE;
	return FALLBACK;
}

/* runtimeoptions.v1.Options { type_url = 1; config_path = 2; config_body = 3 }: the body wins over the path. */
static int runtime_options_grouping(const uint8_t *p, const uint8_t *end)
{
	struct pb_field fields[3];
	const struct pb_field *path = &fields[1], *body = &fields[2];
	if (pb_strings(p, end, fields, 3) < 0 || !ascii_only(path->data, path->len) || !ascii_only(body->data, body->len))
		return FALLBACK;
	if (body->len)
		return options_config_grouping((const char *)body->data, body->len);
	if (!path->len)
		return GROUP_SANDBOX;
	char file[4096];
	if (path->len >= sizeof file)
		return FALLBACK;
	memcpy(file, path->data, path->len);
	file[path->len] = 0;
	size_t n;
	char *json = read_file(file, MAX_CONFIG, &n);
	if (!json)
		return FALLBACK;
	int g = options_config_grouping(json, n);
	free(json);
	return g;
}

int options_grouping(void)
{
	if (stdin_empty())
		return GROUP_SANDBOX;
	/* Read in full or not at all: a part of them put back would give the Node shim other options. */
	if (!(g_bytes = read_fd(0, MAX_OPTIONS, &g_len)))
		return OPTIONS_UNREADABLE;
	if (!g_len)
		return GROUP_SANDBOX;
	/* google.protobuf.Any { type_url = 1; value = 2 } */
	struct pb_field fields[2];
	const struct pb_field *url = &fields[0], *value = &fields[1];
	if (pb_strings((const uint8_t *)g_bytes, (const uint8_t *)g_bytes + g_len, fields, 2) < 0 || !ascii_only(url->data, url->len))
		return FALLBACK;
	/* options.ts: no type means no options; the type is the URL's last segment */
	if (!url->len)
		return GROUP_SANDBOX;
	const uint8_t *type = url->data + url->len;
	while (type > url->data && type[-1] != '/')
		type--;
	size_t tlen = (size_t)(url->data + url->len - type);
#define IS_TYPE(name) (tlen == strlen(name) && memcmp(type, name, tlen) == 0)
	if (IS_TYPE("runtimeoptions.v1.Options"))
		return runtime_options_grouping(value->data, value->data + value->len);
	/* containerd.runc.v1.Options is decoded and checked by the Node shim; other types are ignored there */
	if (IS_TYPE("containerd.runc.v1.Options"))
		return FALLBACK;
#undef IS_TYPE
	return GROUP_SANDBOX;
}
