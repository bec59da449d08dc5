/* tsrunc-init: executes a plan (see ../plan.h) inside the container being created. */
#ifndef TSRUNC_INIT_H
#define TSRUNC_INIT_H

#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include "plan.h"

/* A cursor over one record's payload. */
struct reader {
	const uint8_t *p, *end;
};

uint64_t rd_u64(struct reader *r);
const char *rd_str(struct reader *r);
const void *rd_blob(struct reader *r, uint32_t *len);
/* NULL-terminated array of strings; allocated. */
char **rd_strv(struct reader *r);
/* Array of u64 values; allocated, count in *n. */
uint64_t *rd_u64v(struct reader *r, uint32_t *n);

/* Everything the steps share. */
struct init_ctx {
	int sync_fd;          /* to the runtime, until OP_READY */
	int report_fd;        /* where errors go: sync_fd, then the start connection */
	int root_fd;          /* the rootfs (O_PATH), after OP_ROOTFS */
	char rootfs[PATH_MAX];
	int proc_fd;          /* a private procfs instance (trusted /proc) */
	int start_listen_fd;  /* the start socket, between OP_LISTEN_START and OP_WAIT_START */
	char exec_path[PATH_MAX];
	char *runtime_state;  /* state JSON the runtime sent with its go-ahead after OP_READY */
	char *sync_state;     /* state JSON from the last non-empty OP_SYNC reply (hooks before OP_READY) */
	int private_closed;   /* OP_CLOSE_PRIVATE ran: no trusted procfs from here on */
	char **exec_argv, **exec_envp; /* OP_EXEC's arrays, built before any step */
	int cap_last;         /* the highest capability this kernel knows (probed at start, no procfs) */
};

extern struct init_ctx ctx;
extern const char *cur_where;

/* Report "<where>: <message>[: strerror(errno)]" to the runtime and exit(1). */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_errno(const char *fmt, ...);

/* Messages on the sync socket. */
void send_msg(char tag, const char *payload);
/* Send one fd (SCM_RIGHTS) with a payload on a unix socket; `what` names it in errors. */
void send_fd(int sock, int fd, const char *payload, const char *what);
/* Wait for the runtime's reply; returns the payload after the tag (static buffer) or dies on 'A'. */
const char *wait_go(void);

/* Path helpers (ops_fs.c). */
int open_in_root(const char *path, int flags);
int mkdir_all_in_root(const char *path, int mode);
int proc_fd_path(int fd, char *buf, size_t len);

/* The seccomp filter, run in userspace before it is loaded (seccomp_check.c). */
struct sock_filter;
int seccomp_allows(const struct sock_filter *f, size_t n, int nr, const uint64_t args[6]);
/* Dies with a clear error when the filter would block the final execve. */
void seccomp_check_exec(const struct sock_filter *f, size_t n);

typedef void (*op_handler)(struct reader *r);

/* Handlers, one per op (ops_*.c). */
void op_setns(struct reader *r);
void op_unshare(struct reader *r);
void op_userns_maps(struct reader *r);
void op_timens_offsets(struct reader *r);
void op_fork(struct reader *r);
void op_setsid(struct reader *r);
void op_propagation(struct reader *r);
void op_rootfs(struct reader *r);
void op_mount(struct reader *r);
void op_mknod(struct reader *r);
void op_bind_device(struct reader *r);
void op_symlink(struct reader *r);
void op_sysctl(struct reader *r);
void op_hostname(struct reader *r);
void op_domainname(struct reader *r);
void op_pivot_root(struct reader *r);
void op_chroot(struct reader *r);
void op_mask_path(struct reader *r);
void op_readonly_path(struct reader *r);
void op_remount_root_ro(struct reader *r);
void op_chdir(struct reader *r);
void op_rlimit(struct reader *r);
void op_umask(struct reader *r);
void op_oom_score_adj(struct reader *r);
void op_no_new_privs(struct reader *r);
void op_setgroups(struct reader *r);
void op_setgid(struct reader *r);
void op_setuid(struct reader *r);
void op_caps(struct reader *r);
void op_seccomp(struct reader *r);
void op_personality(struct reader *r);
void op_scheduler(struct reader *r);
void op_ioprio(struct reader *r);
void op_cpu_affinity(struct reader *r);
void op_session_keyring(struct reader *r);
void op_close_fd(struct reader *r);
void op_listen_start(struct reader *r);
void op_ready(struct reader *r);
void op_wait_start(struct reader *r);
void op_find_exec(struct reader *r);
void op_exec(struct reader *r);
void op_console(struct reader *r);
void op_sync(struct reader *r);
void op_enter_root(struct reader *r);
void op_mkdir(struct reader *r);
void op_hook(struct reader *r);
void op_apparmor(struct reader *r);
void op_selinux_label(struct reader *r);
void op_chroot_to(struct reader *r);
void op_loopback_up(struct reader *r);
void op_home(struct reader *r);
void op_prepare_mount(struct reader *r);

/* Apply MOUNT_ATTR_IDMAP with a user namespace of these maps (written through procfd) to a detached tree. */
void idmap_tree(int procfd, int tree, const char *uid_map, const char *gid_map, int recursive, const char *what);

/* env plus the HOME that OP_HOME found (ops_user.c), for OP_EXEC. */
char **env_with_home(char **env);
void op_close_private(struct reader *r);
void op_cloexec_from(struct reader *r);
void op_join_ns(struct reader *r);
void op_pin_pid(struct reader *r);
void op_check_pin(struct reader *r);
/* Not dumpable: no process of the container may open our /proc/<pid> files (fds, cwd, root, mem). */
void undumpable(void);

#endif
