/* containerd-shim-tsrunc-v2's launcher: what main.c, start.c, delete.c and util.c share. */
#ifndef SHIMLAUNCH_LAUNCH_H
#define SHIMLAUNCH_LAUNCH_H

#include <stddef.h>

/* A command's answer meaning "the Node shim decides": main execs it with the same argv. */
#define FALLBACK (-1000)
#define SOCKET_DIR "/run/containerd/s"
/* Written by the server (src/shim/service/deleted-marker.ts) once its Delete of the container succeeded. */
#define DELETED_MARKER ".tsrunc-shim-deleted"
#define BUNDLE_INFO "tsrunc-shim.json"

struct flags {
	const char *namespace, *id, *address, *publish_binary, *bundle, *socket;
	int debug, version;
	const char *action;
};

int cmd_start(const struct flags *f);
int cmd_delete(const struct flags *f);

/* The Node shim's path (main.c). */
void node_script(char *out, size_t n);

/* sizeof "/run/containerd/s/" + 64 hex digits + NUL */
#define SOCKET_PATH_MAX 84

int valid_id(const char *id);
/* Whether path.join() would leave `path` as it is: no empty, "." or ".." segment, no trailing slash. */
int normalized(const char *path);
/* SOCKET_DIR/sha256(path.join(address, ns, group)) in out; -1 when the key is not already normalized. */
int shim_socket_path(const char *address, const char *ns, const char *group, size_t glen, char out[SOCKET_PATH_MAX]);
/* All of fd or of a file, NUL-terminated (len without it); NULL with errno when unreadable or longer than max (EFBIG). */
char *read_fd(int fd, size_t max, size_t *len);
char *read_file(const char *path, size_t max, size_t *len);
int write_all(int fd, const void *data, size_t n);
int write_atomic(const char *file, const char *data);
int can_connect(const char *path);
int bind_listen(const char *path);

/* The grouping the shim options on stdin ask for (options.c), FALLBACK, or OPTIONS_UNREADABLE (errno). */
enum { GROUP_SANDBOX = 1, GROUP_NAMESPACE = 2, OPTIONS_UNREADABLE = 3 };
int options_grouping(void);
/* The grouping a config document ({"group", "root"}) asks for, as options.ts's parseConfig reads it, or FALLBACK. */
int options_config_grouping(const char *json, size_t n);
/* Before the Node shim takes over: what options_grouping read goes back on stdin. */
void options_restore_stdin(void);

/* Asking a live group shim to stay for container `id` until its Create (reserve.c, as reserve.ts). */
enum { RESERVE_OK, RESERVE_GOING, RESERVE_SILENT };
int reserve_shim(const char *path, const char *id, int timeout_ms);

#endif
