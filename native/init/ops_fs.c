/*
 * Stage 2, filesystem: the rootfs, mounts, devices, masked and read-only paths (the switch into the
 * root: ops_root.c; id-mapping: ops_idmap.c).
 * Every path inside the container is resolved with openat2(RESOLVE_IN_ROOT) from the rootfs fd
 * and every mount is attached to an fd with the new mount API (open_tree/fsmount/move_mount),
 * so a symlink or a rename in the rootfs can never send a mount outside it, and nothing
 * depends on a /proc that the container could have replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>
#include <linux/magic.h>
#include "init.h"

static int openat2_in(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = resolve };
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int open_in_root(const char *path, int flags)
{
	return openat2_in(ctx.root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Split a path into its parent (written to buf) and its final name (returned, inside path). */
static const char *split_parent(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (start == 0)
		snprintf(buf, len, ".");
	else if (start == 1)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(start - 1), path);
	/* The name is path[start..n); a trailing slash was dropped above, so copy it after the parent. */
	size_t plen = strlen(buf) + 1;
	if (plen + (n - start) + 1 > len)
		die("path too long: %s", path);
	memcpy(buf + plen, path + start, n - start);
	buf[plen + (n - start)] = '\0';
	return buf + plen;
}

/* Symlinks followed while creating a path (the kernel's limit for one lookup). */
#define MAX_LINKS 40

/*
 * `prefix` (a path in the rootfs) is a symlink whose target does not exist yet: the same path with the
 * link replaced by its target, then `rest`. The result is resolved with RESOLVE_IN_ROOT again, so an
 * absolute target or ".." stays inside the rootfs. 0 when `prefix` is no symlink.
 */
static int follow_dangling(const char *prefix, const char *rest, char *out, size_t len)
{
	char pbuf[PATH_MAX], link[PATH_MAX];
	const char *name = split_parent(prefix, pbuf, sizeof(pbuf));
	int parent = open_in_root(pbuf, O_PATH | O_DIRECTORY);
	if (parent < 0)
		return 0;
	ssize_t n = readlinkat(parent, name, link, sizeof(link) - 1);
	close(parent);
	if (n < 0)
		return 0;
	link[n] = '\0';
	int w = link[0] == '/' ? snprintf(out, len, "%s%s", link, rest)
			       : snprintf(out, len, "%s/%s%s", pbuf, link, rest);
	if (w < 0 || (size_t)w >= len)
		die("path too long: %s", prefix);
	return 1;
}

static int mkdir_all_depth(const char *path, int mode, int depth);

int mkdir_all_in_root(const char *path, int mode)
{
	return mkdir_all_depth(path, mode, 0);
}

static int mkdir_all_depth(const char *path, int mode, int depth)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(prefix))
		die("path too long: %s", path);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (i == 0)
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		int fd = open_in_root(prefix, O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			if (i == len)
				return fd;
			close(fd);
			continue;
		}
		if (errno != ENOENT)
			die_errno("open %s in the rootfs", prefix);
		char pbuf[PATH_MAX];
		const char *name = split_parent(prefix, pbuf, sizeof(pbuf));
		int parent = open_in_root(pbuf, O_PATH | O_DIRECTORY);
		if (parent < 0)
			die_errno("open %s in the rootfs", pbuf);
		if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
			die_errno("mkdir %s in the rootfs", prefix);
		close(parent);
		fd = open_in_root(prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			/* A dangling symlink: make its target instead, as runc does (inside the root). */
			char next[PATH_MAX];
			if (depth < MAX_LINKS && follow_dangling(prefix, path + i, next, sizeof(next)))
				return mkdir_all_depth(next, mode, depth + 1);
		}
		if (fd < 0)
			die_errno("open %s in the rootfs", prefix);
		if (i == len)
			return fd;
		close(fd);
	}
	return open_in_root("/", O_PATH | O_DIRECTORY);
}

/* The mount point for a target: existing, or created as a directory or an empty file. */
static int mount_target_depth(const char *path, int as_file, int depth)
{
	int fd = open_in_root(path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : (die_errno("open %s in the rootfs", path), -1);
	if (!as_file)
		return mkdir_all_in_root(path, 0755);
	char pbuf[PATH_MAX];
	const char *name = split_parent(path, pbuf, sizeof(pbuf));
	int parent = mkdir_all_in_root(pbuf, 0755);
	int created = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (created < 0 && errno != EEXIST)
		die_errno("create %s in the rootfs", path);
	if (created >= 0)
		close(created);
	close(parent);
	fd = open_in_root(path, O_PATH);
	if (fd < 0 && errno == ENOENT) {
		char next[PATH_MAX];
		if (depth < MAX_LINKS && follow_dangling(path, "", next, sizeof(next)))
			return mount_target_depth(next, as_file, depth + 1);
	}
	if (fd < 0)
		die_errno("open %s in the rootfs", path);
	return fd;
}

static int mount_target(const char *path, int as_file)
{
	return mount_target_depth(path, as_file, 0);
}

/* MS_* flags that have a per-mount attribute. */
static uint64_t ms_to_attr(uint64_t ms)
{
	uint64_t attr = 0;
	if (ms & MS_RDONLY) attr |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID) attr |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV) attr |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC) attr |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME) attr |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOATIME) attr |= MOUNT_ATTR_NOATIME;
	else if (ms & MS_STRICTATIME) attr |= MOUNT_ATTR_STRICTATIME;
	return attr;
}

static void set_attr(int fd, unsigned int at_flags, uint64_t set, uint64_t clr, uint64_t propagation, const char *what)
{
	struct mount_attr attr = { .attr_set = set, .attr_clr = clr, .propagation = propagation };
	if ((set & MOUNT_ATTR__ATIME) || (set & (MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME)))
		attr.attr_clr |= MOUNT_ATTR__ATIME;
	if (mount_setattr(fd, "", AT_EMPTY_PATH | at_flags, &attr, sizeof(attr)) == 0)
		return;
	/* In a user namespace the flags inherited from the host are locked: keep them. */
	if (errno == EPERM && clr) {
		attr.attr_clr = (set & (MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME)) ? MOUNT_ATTR__ATIME : 0;
		if (mount_setattr(fd, "", AT_EMPTY_PATH | at_flags, &attr, sizeof(attr)) == 0)
			return;
	}
	die_errno("set mount attributes of %s", what);
}

static void attach(int tree, int target_fd, const char *target)
{
	if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_errno("attach mount on %s", target);
}

/* A new filesystem instance configured from the comma-separated data options; with `soft`, a refused
 * create (EPERM/EBUSY) returns -1 instead of dying. */
static int fs_instance_soft(const char *fstype, const char *source, uint64_t flags, const char *data, int soft)
{
	int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		die_errno("fsopen %s", fstype);
	if (source && *source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		die_errno("set source %s", source);
	if (flags & MS_SYNCHRONOUS)
		fsconfig(fsfd, FSCONFIG_SET_FLAG, "sync", NULL, 0);
	if (flags & MS_DIRSYNC)
		fsconfig(fsfd, FSCONFIG_SET_FLAG, "dirsync", NULL, 0);
	char *opts = strdup(data), *save = NULL;
	for (char *opt = strtok_r(opts, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		int rc;
		if (eq) {
			*eq = '\0';
			rc = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
		} else {
			rc = fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (rc < 0)
			die_errno("%s option %s%s%s", fstype, opt, eq ? "=" : "", eq ? eq + 1 : "");
	}
	free(opts);
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		if (soft && (errno == EPERM || errno == EBUSY)) {
			int saved = errno;
			close(fsfd);
			errno = saved;
			return -1;
		}
		die_errno("create %s filesystem", fstype);
	}
	int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned int)ms_to_attr(flags));
	if (mfd < 0)
		die_errno("mount %s", fstype);
	close(fsfd);
	return mfd;
}

static int fs_instance(const char *fstype, const char *source, uint64_t flags, const char *data)
{
	return fs_instance_soft(fstype, source, flags, data, 0);
}

/* The flags of a bind mount on its top mount, as a remount would set them. */
static void bind_flags(int tree, uint64_t flags, const char *target)
{
	if (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_STRICTATIME | MS_NODIRATIME)) {
		uint64_t set = ms_to_attr(flags);
		uint64_t clr = (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) & ~set;
		set_attr(tree, 0, set, clr, 0, target);
	}
}

/* tmpfs without mode= keeps the mode of the directory it covers (runc); a new directory gets tmpfs's 1777. */
static char *tmpfs_data(const char *target, const char *data)
{
	char *out;
	struct stat st;
	int fd = open_in_root(target, O_PATH);
	int has_mode = !strncmp(data, "mode=", 5) || strstr(data, ",mode=");
	if (fd < 0 || has_mode || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		out = strdup(data);
	} else if (asprintf(&out, "%s%smode=%o", data, *data ? "," : "", st.st_mode & 07777) < 0) {
		out = NULL;
	}
	if (fd >= 0)
		close(fd);
	if (!out)
		die("out of memory");
	return out;
}

void op_propagation(struct reader *r)
{
	const char *path = rd_str(r);
	uint64_t flags = rd_u64(r);
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		die_errno("set propagation of %s", path);
}

static void open_trusted_proc(void);

static int private_procfs(void)
{
	int fsfd = fsopen("proc", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -1;
	int mfd = -1;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fsfd);
	return mfd;
}

void op_rootfs(struct reader *r)
{
	const char *path = rd_str(r);
	snprintf(ctx.rootfs, sizeof(ctx.rootfs), "%s", path);
	int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		die_errno("bind the rootfs %s", path);
	if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die_errno("bind the rootfs %s", path);
	close(tree);
	ctx.root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx.root_fd < 0)
		die_errno("open the rootfs %s", path);
	open_trusted_proc();
}

/* A procfs of our own for sysctls and /proc/self files: the container's /proc may be anything. */
static void open_trusted_proc(void)
{
	ctx.proc_fd = private_procfs();
	if (ctx.proc_fd < 0) {
		struct statfs sfs;
		ctx.proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (ctx.proc_fd < 0 || fstatfs(ctx.proc_fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
			die("no procfs to configure the container with");
	}
}

void op_enter_root(struct reader *r)
{
	(void)r;
	/* The joined root is the container's own; an exec needs no procfs (cap_last is probed). */
	ctx.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx.root_fd < 0)
		die_errno("open /");
}

void op_close_private(struct reader *r)
{
	(void)r;
	if (ctx.root_fd >= 0)
		close(ctx.root_fd);
	if (ctx.proc_fd >= 0)
		close(ctx.proc_fd);
	ctx.root_fd = ctx.proc_fd = -1;
	ctx.private_closed = 1;
}

struct mount_rec {
	const char *source, *target, *fstype, *data, *uid_map, *gid_map, *fallback;
	uint64_t flags, propagation, rec_set, rec_clr, mflags;
};

static void read_mount(struct reader *r, struct mount_rec *m)
{
	m->source = rd_str(r);
	m->target = rd_str(r);
	m->fstype = rd_str(r);
	m->flags = rd_u64(r);
	m->data = rd_str(r);
	m->propagation = rd_u64(r);
	m->rec_set = rd_u64(r);
	m->rec_clr = rd_u64(r);
	m->mflags = rd_u64(r);
	m->uid_map = rd_str(r);
	m->gid_map = rd_str(r);
	m->fallback = rd_str(r);
}

/* The detached tree of a bind mount: flags on its top, recursive attributes, the id-mapping. */
static int bind_tree(const struct mount_rec *m, int procfd)
{
	unsigned int rec = (m->flags & MS_REC) ? AT_RECURSIVE : 0;
	int tree = open_tree(AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		die_errno("bind %s", m->source);
	/* A bind with flags gets exactly those flags on its top mount, as a remount would. */
	bind_flags(tree, m->flags, m->target);
	if (m->rec_set || m->rec_clr)
		set_attr(tree, AT_RECURSIVE, m->rec_set, m->rec_clr, 0, m->target);
	if (*m->uid_map || *m->gid_map)
		idmap_tree(procfd, tree, m->uid_map, m->gid_map, (m->mflags & MOUNT_F_IDMAP_REC) != 0, m->target);
	return tree;
}

/*
 * Id-mapped bind trees are made in stage 1, while tsrunc-init still runs in the runtime's user namespace:
 * MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's superblock, which a process in the container's
 * user namespace lacks. The init attaches them (OP_MOUNT with MOUNT_F_PREPARED) in plan order.
 */
#define MAX_PREPARED 64
static int prepared[MAX_PREPARED];
static int n_prepared, next_prepared;

void op_prepare_mount(struct reader *r)
{
	struct mount_rec m;
	read_mount(r, &m);
	if (n_prepared == MAX_PREPARED)
		die("too many id-mapped mounts (at most %d)", MAX_PREPARED);
	int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sfs;
	if (procfd < 0 || fstatfs(procfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		die("no procfs to make an id-mapped mount with");
	prepared[n_prepared++] = bind_tree(&m, procfd);
	close(procfd);
}

void op_mount(struct reader *r)
{
	struct mount_rec m;
	read_mount(r, &m);

	int tree;
	if (m.mflags & MOUNT_F_PREPARED) {
		if (next_prepared == n_prepared)
			die("no prepared mount for %s", m.target);
		tree = prepared[next_prepared++];
	} else if (m.mflags & MOUNT_F_BIND) {
		tree = bind_tree(&m, ctx.proc_fd);
	} else if (!strcmp(m.fstype, "tmpfs")) {
		char *full = tmpfs_data(m.target, m.data);
		tree = fs_instance(m.fstype, m.source, m.flags, full);
		free(full);
	} else {
		tree = fs_instance_soft(m.fstype, m.source, m.flags, m.data, *m.fallback != '\0');
		if (tree < 0) {
			/* A user namespace without a cgroup namespace gets no cgroup2 instance: bind the
			 * runtime's hierarchy with the mount's flags, as runc does. */
			tree = open_tree(AT_FDCWD, m.fallback, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			if (tree < 0)
				die_errno("bind %s (no new %s filesystem is allowed here)", m.fallback, m.fstype);
			bind_flags(tree, m.flags, m.target);
		}
	}
	if (!(m.mflags & (MOUNT_F_PREPARED | MOUNT_F_BIND)) && (m.rec_set || m.rec_clr))
		set_attr(tree, AT_RECURSIVE, m.rec_set, m.rec_clr, 0, m.target);

	int target_fd = mount_target(m.target, (m.mflags & MOUNT_F_FILE) != 0);
	attach(tree, target_fd, m.target);
	close(tree);
	close(target_fd);
	if (m.propagation) {
		int fd = open_in_root(m.target, O_PATH);
		if (fd < 0)
			die_errno("open %s", m.target);
		set_attr(fd, (m.propagation & MS_REC) ? AT_RECURSIVE : 0, 0, 0, m.propagation & ~(uint64_t)MS_REC, m.target);
		close(fd);
	}
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* chmod of an O_PATH fd: fchmodat2(AT_EMPTY_PATH) (Linux 6.6), else the fd's magic link in our procfs. */
static void chmod_fd(int fd, mode_t mode, const char *what)
{
	if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
		return;
	if (errno != ENOSYS && errno != EINVAL)
		die_errno("chmod %s", what);
	char link[64];
	snprintf(link, sizeof(link), "self/fd/%d", fd);
	if (ctx.proc_fd < 0 || fchmodat(ctx.proc_fd, link, mode, 0) < 0)
		die_errno("chmod %s", what);
}

void op_mknod(struct reader *r)
{
	const char *path = rd_str(r);
	mode_t mode = (mode_t)rd_u64(r);
	unsigned int major_ = (unsigned int)rd_u64(r), minor_ = (unsigned int)rd_u64(r);
	uid_t uid = (uid_t)rd_u64(r);
	gid_t gid = (gid_t)rd_u64(r);
	char pbuf[PATH_MAX];
	const char *name = split_parent(path, pbuf, sizeof(pbuf));
	int parent = mkdir_all_in_root(pbuf, 0755);
	dev_t dev = makedev(major_, minor_);
	struct stat st;
	if (mknodat(parent, name, mode, dev) < 0) {
		/* Not ours: the rootfs's own node stays as it is (as runc does), and nothing else will do.
		 * Changing it would follow whatever the path is by then (issue 13: a swapped-in symlink). */
		if (errno != EEXIST || fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (st.st_mode & S_IFMT) != (mode & S_IFMT) || st.st_rdev != dev)
			die_errno("mknod %s", path);
		close(parent);
		return;
	}
	/* Ours: owner and mode go through an fd of the node itself, checked to be the device just made,
	 * never through its path (the rootfs is still the host's to rename in, until pivot_root). */
	int node = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (node < 0 || fstat(node, &st) < 0)
		die_errno("open %s", path);
	if ((st.st_mode & S_IFMT) != (mode & S_IFMT) || st.st_rdev != dev)
		die("%s was replaced while it was being created", path);
	if (fchownat(node, "", uid, gid, AT_EMPTY_PATH) < 0)
		die_errno("chown %s", path);
	chmod_fd(node, mode & 07777, path);
	close(node);
	close(parent);
}

void op_bind_device(struct reader *r)
{
	const char *host = rd_str(r), *path = rd_str(r);
	int tree = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		die_errno("bind %s", host);
	int target = mount_target(path, 1);
	attach(tree, target, path);
	close(tree);
	close(target);
}

void op_symlink(struct reader *r)
{
	const char *target = rd_str(r), *path = rd_str(r);
	char pbuf[PATH_MAX];
	const char *name = split_parent(path, pbuf, sizeof(pbuf));
	int parent = mkdir_all_in_root(pbuf, 0755);
	if (symlinkat(target, parent, name) < 0 && errno != EEXIST)
		die_errno("symlink %s -> %s", path, target);
	close(parent);
}

void op_sysctl(struct reader *r)
{
	const char *key = rd_str(r), *value = rd_str(r);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "sys/%s", key);
	for (char *p = path + 4; *p; p++)
		if (*p == '.')
			*p = '/';
	int fd = openat2_in(ctx.proc_fd, path, O_WRONLY,
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd < 0)
		die_errno("open /proc/%s", path);
	if (write(fd, value, strlen(value)) < 0)
		die_errno("write %s", key);
	close(fd);
}

/* A masked or read-only path that does not exist needs nothing: -1 then. */
static int open_existing(const char *path)
{
	int fd = open_in_root(path, O_PATH);
	if (fd < 0 && errno != ENOENT)
		die_errno("open %s", path);
	return fd;
}

void op_mask_path(struct reader *r)
{
	const char *path = rd_str(r);
	int target = open_existing(path);
	if (target < 0)
		return;
	struct stat st;
	if (fstat(target, &st) < 0)
		die_errno("stat %s", path);
	int tree;
	if (S_ISDIR(st.st_mode)) {
		tree = fs_instance("tmpfs", "tmpfs", MS_RDONLY, "");
	} else {
		/* Only the real /dev/null will do: a swapped-in symlink or file must not be bound. */
		int null = open_in_root("/dev/null", O_PATH);
		struct stat nst;
		if (null < 0 || fstat(null, &nst) < 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != makedev(1, 3))
			die("/dev/null in the container is not the null device");
		tree = open_tree(null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (tree < 0)
			die_errno("clone /dev/null");
		close(null);
	}
	attach(tree, target, path);
	close(tree);
	close(target);
}

void op_readonly_path(struct reader *r)
{
	const char *path = rd_str(r);
	int target = open_existing(path);
	if (target < 0)
		return;
	int tree = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		die_errno("bind %s", path);
	set_attr(tree, AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0, path);
	attach(tree, target, path);
	close(tree);
	close(target);
}

void op_remount_root_ro(struct reader *r)
{
	(void)r;
	int root = open_in_root("/", O_PATH | O_DIRECTORY);
	if (root < 0)
		die_errno("open /");
	set_attr(root, 0, MOUNT_ATTR_RDONLY, 0, 0, "/");
	close(root);
}
