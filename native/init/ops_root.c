/* Stage 2, the root: pivot_root or chroot into the rootfs, the working directory. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include "init.h"

void op_pivot_root(struct reader *r)
{
	(void)r;
	if (fchdir(ctx.root_fd) < 0)
		die_errno("chdir to the rootfs");
	/* Stack the old root on the new one, then detach it. It was made rslave before anything was
	 * mounted (the first plan step), so the detach cannot propagate to the host; a MS_SLAVE|MS_REC
	 * on "." here would also reach the new root's mounts and undo their propagation. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die_errno("detach the old root");
	if (chdir("/") < 0)
		die_errno("chdir /");
}

void op_chroot(struct reader *r)
{
	(void)r;
	if (fchdir(ctx.root_fd) < 0)
		die_errno("chdir to the rootfs");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		die_errno("move the rootfs to /");
	if (chroot(".") < 0)
		die_errno("chroot");
	if (chdir("/") < 0)
		die_errno("chdir /");
}

void op_mkdir(struct reader *r)
{
	const char *path = rd_str(r);
	int mode = (int)rd_u64(r);
	close(mkdir_all_in_root(path, mode));
}

/* A missing cwd is create's to make (OP_MKDIR, while the root is writable); exec fails like chdir(2). */
void op_chdir(struct reader *r)
{
	const char *path = rd_str(r);
	if (chdir(path) < 0)
		die_errno("chdir %s", path);
}

void op_chroot_to(struct reader *r)
{
	const char *path = rd_str(r);
	int fd = *path ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : dup(ctx.root_fd);
	if (fd < 0)
		die_errno("open %s", *path ? path : ctx.rootfs);
	if (fchdir(fd) < 0)
		die_errno("chdir to %s", *path ? path : ctx.rootfs);
	if (chroot(".") < 0)
		die_errno("chroot");
	if (chdir("/") < 0)
		die_errno("chdir /");
	close(fd);
}
