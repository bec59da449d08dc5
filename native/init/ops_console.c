/* Stage 2, the terminal: a pty from the container's own devpts, handed to whoever holds the console socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include "init.h"

/* /dev/console becomes the pty: a bind of the peer, onto a target resolved inside the rootfs. */
static void bind_console(int peer)
{
	int tree = open_tree(peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		die_errno("clone the pty for /dev/console");
	int target = open_in_root("/dev/console", O_PATH | O_NOFOLLOW);
	if (target < 0 && errno == ENOENT) {
		int dev = open_in_root("/dev", O_PATH | O_DIRECTORY);
		int created = dev < 0 ? -1 : openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (created < 0)
			die_errno("create /dev/console");
		close(created);
		close(dev);
		target = open_in_root("/dev/console", O_PATH | O_NOFOLLOW);
	}
	struct stat st;
	/* Whatever the container put there must be a plain file or a device node, never a link elsewhere. */
	if (target < 0 || fstat(target, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
		die("/dev/console in the container is not a file or a character device");
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_errno("bind the pty over /dev/console");
	close(tree);
	close(target);
}

void op_console(struct reader *r)
{
	int sock = (int)rd_u64(r);
	unsigned short rows = (unsigned short)rd_u64(r), cols = (unsigned short)rd_u64(r);
	int is_init = (int)rd_u64(r);

	int master = open_in_root("/dev/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0)
		die_errno("open /dev/ptmx in the container");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die_errno("unlock the pty");
	/* TIOCGPTPEER opens the peer through the master: no path to swap. */
	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		die_errno("open the pty peer");
	if (rows || cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			die_errno("set the console size");
	}
	int index = -1;
	ioctl(master, TIOCGPTN, &index);
	char name[32];
	snprintf(name, sizeof(name), "/dev/pts/%d", index);
	if (is_init)
		bind_console(peer);
	/* The controlling terminal before the master leaves our hands: once the receiver holds the only master
	 * it may close it, and TIOCSCTTY on a hung-up peer fails with EIO. */
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		die_errno("make the pty the controlling terminal");
	send_fd(sock, master, name, "the pty master to the console socket");
	close(master);
	close(sock);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(peer, fd) < 0)
			die_errno("dup the pty");
	close(peer);
}
