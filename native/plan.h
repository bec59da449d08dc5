/*
 * The plan: the flat, serialised list of operations that TypeScript builds
 * (src/runtime/plan/) and tsrunc-init executes in order.  This header and
 * src/runtime/plan/ops.ts must agree; test/unit/plan-ops.test.ts checks that.
 *
 * Wire format (little endian):
 *   plan   := record*
 *   record := u32 op, u32 payload_len, payload
 *   every payload starts with a str `where` (the JSON path named in errors)
 *   u64    := 8 bytes
 *   str    := u32 len (including the trailing NUL), bytes, NUL
 *   blob   := u32 len, bytes
 *   strv   := u32 count, str*
 *   u64v   := u32 count, u64*
 */
#ifndef TSRUNC_PLAN_H
#define TSRUNC_PLAN_H

enum plan_op {
	/* --- stage 1: the first helper process, still in the runtime's namespaces --- */
	OP_SETNS = 1,           /* str path, u64 nstype (CLONE_NEW*): open it (joined by OP_JOIN_NS) */
	OP_UNSHARE = 2,         /* u64 flags */
	OP_USERNS_MAPS = 3,     /* (nothing): ask the runtime to write uid/gid maps, wait */
	OP_TIMENS_OFFSETS = 4,  /* str content for /proc/self/timens_offsets */
	OP_FORK = 5,            /* (nothing): fork; the parent reports the child's pid and exits */

	/* --- stage 2: the container init, in its namespaces --- */
	OP_SETSID = 10,         /* (nothing) */
	OP_PROPAGATION = 11,    /* str path, u64 flags: mount(NULL, path, NULL, flags) */
	OP_ROOTFS = 12,         /* str path: bind the rootfs onto itself and open it as the root */
	OP_MOUNT = 13,          /* str source, str target, str fstype, u64 flags, str data,
	                           u64 propagation, u64 attr_set, u64 attr_clr, u64 mflags (MOUNT_F_*),
	                           str uid_map, str gid_map (both "": not id-mapped),
	                           str fallback ("" none): cgroup2 only, a host path to bind when the kernel
	                           refuses a new cgroup2 instance (EPERM/EBUSY: a user namespace without a
	                           cgroup namespace) */
	OP_MKNOD = 14,          /* str path, u64 mode (type|perm), u64 major, u64 minor, u64 uid, u64 gid */
	OP_BIND_DEVICE = 15,    /* str host_path, str path */
	OP_SYMLINK = 16,        /* str target, str path */
	OP_SYSCTL = 17,         /* str key (dotted or slashed), str value */
	OP_HOSTNAME = 18,       /* str name */
	OP_DOMAINNAME = 19,     /* str name */
	OP_PIVOT_ROOT = 20,     /* (nothing) */
	OP_CHROOT = 21,         /* (nothing): --no-pivot: MS_MOVE the rootfs to / and chroot */
	OP_MASK_PATH = 22,      /* str path (container view, after pivot) */
	OP_READONLY_PATH = 23,  /* str path */
	OP_REMOUNT_ROOT_RO = 24,/* (nothing) */
	OP_CHDIR = 25,          /* str path */
	OP_RLIMIT = 26,         /* u64 resource, u64 soft, u64 hard */
	OP_UMASK = 27,          /* u64 mask */
	OP_OOM_SCORE_ADJ = 28,  /* u64 value (as signed): stage 1, through the runtime's own /proc */
	OP_NO_NEW_PRIVS = 29,   /* (nothing) */
	OP_SETGROUPS = 30,      /* u64v gids */
	OP_SETGID = 31,         /* u64 gid */
	OP_SETUID = 32,         /* u64 uid (keeps capabilities for OP_CAPS) */
	OP_CAPS = 33,           /* u64 bounding, effective, permitted, inheritable, ambient (bit masks) */
	OP_SECCOMP = 34,        /* u64 flags, blob filter (struct sock_filter[]), u64 listener_fd (-1: none),
	                           u64 deferred: with a listener, the notify fd goes there with the state JSON
	                           that the runtime sent in its reply to OP_READY (an exec asks for it first);
	                           deferred (noNewPrivileges false): OP_CAPS loads it, before its drops */
	OP_PERSONALITY = 35,    /* u64 domain */
	OP_SCHEDULER = 36,      /* u64 policy, u64 priority, u64 flags, u64 nice, u64 runtime, u64 deadline, u64 period */
	OP_IOPRIO = 37,         /* u64 ioprio value (class << 13 | level) */
	OP_CPU_AFFINITY = 38,   /* str cpu list ("0-3,5") */
	OP_SESSION_KEYRING = 39,/* str name */
	OP_CLOSE_FD = 40,       /* u64 fd */
	OP_LISTEN_START = 41,   /* u64 dirfd, str name: bind the start socket in that directory */
	OP_READY = 42,          /* (nothing): tell the runtime the container is created; wait for "G<state json>" */
	OP_WAIT_START = 43,     /* (nothing): accept on the start socket, report further errors there */
	OP_FIND_EXEC = 44,      /* str file, str PATH: resolve args[0] in the container now */
	OP_EXEC = 45,           /* strv argv, strv env: execve, nothing else (after seccomp) */
	OP_CONSOLE = 46,        /* u64 socket_fd, u64 rows, u64 cols, u64 is_init: make a pty in the container's
	                           devpts, send its master to socket_fd, make it our stdio (and /dev/console) */
	OP_SYNC = 47,           /* str name: tell the runtime, wait for its go-ahead (hooks); a non-empty
	                           payload in the reply ("state": the state JSON) becomes ctx.sync_state */
	OP_HOOK = 49,           /* str path, strv args, strv env, u64 timeout_secs (0: none): run an OCI hook with
	                           ctx.runtime_state on its stdin; fail unless it exits 0 in time */
	OP_MKDIR = 51,          /* str path, u64 mode: mkdir -p inside the rootfs */
	OP_ENTER_ROOT = 50,     /* (nothing): exec: adopt the joined mount namespace's root as the rootfs */
	OP_APPARMOR = 60,       /* str profile: "exec <profile>" to /proc/self/attr/apparmor/exec (or attr/exec) */
	OP_SELINUX_LABEL = 61,  /* str label: to /proc/self/attr/exec, applied at the final execve */
	OP_CHROOT_TO = 52,      /* str path ("": the rootfs): chroot there, for a container without a mount
	                           namespace of its own (no pivot_root or MS_MOVE in the runtime's namespace) */
	OP_LOOPBACK_UP = 53,    /* (nothing): bring lo up in the new network namespace */
	OP_HOME = 54,           /* u64 uid: HOME for OP_EXEC from the container's /etc/passwd (else "/") */
	OP_PREPARE_MOUNT = 55,  /* OP_MOUNT's payload, stage 1 (runtime's user namespace): build an id-mapped
	                           bind tree for a later OP_MOUNT with MOUNT_F_PREPARED */
	OP_CLOSE_PRIVATE = 56,  /* (nothing): close the rootfs and private procfs fds: nothing after this
	                           step may hold an fd that leads outside the container */
	OP_CLOEXEC_FROM = 57,   /* u64 first_private_fd: fds >= it and the report fd become close-on-exec */
	OP_JOIN_NS = 58,        /* (nothing): join every namespace OP_SETNS opened, in plan order */
	OP_PIN_PID = 59,        /* u64 pid, u64 start time: the process the plan names by /proc/<pid> must have
	                           that start time; its /proc/<pid>/stat stays open for OP_CHECK_PIN */
	OP_CHECK_PIN = 62,      /* (nothing): the pinned process still exists (so every /proc/<pid> opened since
	                           OP_PIN_PID was its, not a reused pid's); closes the pin */
	OP_MAX = 64,
};

/* OP_MOUNT mflags */
#define MOUNT_F_BIND        0x1   /* source is a host path to bind; else fstype is mounted */
#define MOUNT_F_FILE        0x2   /* create the target as a file, not a directory */
#define MOUNT_F_RECURSIVE   0x4   /* apply attr_set/attr_clr with AT_RECURSIVE (rro, ...) */
#define MOUNT_F_CGROUP2     0x8   /* cgroup mount: needs the cgroup namespace view */
#define MOUNT_F_IDMAP_REC   0x10  /* apply the id-mapping to every mount of the tree */
#define MOUNT_F_PREPARED    0x20  /* attach the next tree OP_PREPARE_MOUNT made (id-mapped binds) */

/* Messages tsrunc-init sends to the runtime on the sync socket (one per packet). */
#define MSG_ERROR   'E'   /* "E<where>: <message>" */
#define MSG_PID     'P'   /* "P<decimal pid of the init, in the runtime's pid namespace>" */
#define MSG_MAPS    'M'   /* "M<decimal pid whose uid/gid maps to write>" */
#define MSG_READY   'R'   /* "R" */
#define MSG_SYNC    'S'   /* "S<name>" */
/* The runtime's replies. */
#define MSG_GO      'G'
#define MSG_ABORT   'A'

#endif
