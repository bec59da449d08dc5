/*
 * Id-mapped mounts: MOUNT_ATTR_IDMAP takes a user namespace fd; tsrunc-init makes one with the mount's
 * maps (only the namespace is needed, not a process in it).
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include "init.h"

/*
 * A user namespace with the given maps, as an fd: a child unshares one and waits while we write its
 * maps through our own procfs, then goes. Only the namespace is needed, not the process.
 */
static int userns_with_maps(int procfd, const char *uid_map, const char *gid_map)
{
	int ready[2], done[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		char c = 0;
		close(ready[0]);
		close(done[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(ready[1], &c, 1) < 0 || read(done[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	char c, path[64];
	if (read(ready[0], &c, 1) != 1)
		die("could not make a user namespace for an id-mapped mount");
	const char *files[] = { "uid_map", "setgroups", "gid_map" };
	const char *values[] = { uid_map, "deny", gid_map };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%d/%s", pid, files[i]);
		int fd = openat(procfd, path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, values[i], strlen(values[i])) < 0)
			die_errno("write %s of an id-mapped mount", files[i]);
		close(fd);
	}
	snprintf(path, sizeof(path), "%d/ns/user", pid);
	int ns = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		die_errno("open the user namespace of an id-mapped mount");
	close(done[1]);
	close(ready[0]);
	waitpid(pid, NULL, 0);
	return ns;
}

void idmap_tree(int procfd, int tree, const char *uid_map, const char *gid_map, int recursive, const char *what)
{
	int ns = userns_with_maps(procfd, uid_map, gid_map);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns };
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
		die_errno("id-map the mount on %s", what);
	close(ns);
}
