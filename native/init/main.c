/*
 * tsrunc-init: started by the runtime from a sealed memfd right after clone, with the
 * sync socket's number in argv[1].  It reads the plan, then runs its steps in order.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "init.h"

struct init_ctx ctx = { .sync_fd = -1, .report_fd = -1, .root_fd = -1, .proc_fd = -1, .start_listen_fd = -1 };
const char *cur_where = "";

static const op_handler handlers[OP_MAX] = {
	[OP_SETNS] = op_setns, [OP_UNSHARE] = op_unshare, [OP_USERNS_MAPS] = op_userns_maps,
	[OP_TIMENS_OFFSETS] = op_timens_offsets, [OP_FORK] = op_fork, [OP_SETSID] = op_setsid,
	[OP_PROPAGATION] = op_propagation, [OP_ROOTFS] = op_rootfs, [OP_MOUNT] = op_mount,
	[OP_MKNOD] = op_mknod, [OP_BIND_DEVICE] = op_bind_device, [OP_SYMLINK] = op_symlink,
	[OP_SYSCTL] = op_sysctl, [OP_HOSTNAME] = op_hostname, [OP_DOMAINNAME] = op_domainname,
	[OP_PIVOT_ROOT] = op_pivot_root, [OP_CHROOT] = op_chroot, [OP_MASK_PATH] = op_mask_path,
	[OP_READONLY_PATH] = op_readonly_path, [OP_REMOUNT_ROOT_RO] = op_remount_root_ro,
	[OP_CHDIR] = op_chdir, [OP_RLIMIT] = op_rlimit, [OP_UMASK] = op_umask,
	[OP_OOM_SCORE_ADJ] = op_oom_score_adj, [OP_NO_NEW_PRIVS] = op_no_new_privs,
	[OP_SETGROUPS] = op_setgroups, [OP_SETGID] = op_setgid, [OP_SETUID] = op_setuid,
	[OP_CAPS] = op_caps, [OP_SECCOMP] = op_seccomp, [OP_PERSONALITY] = op_personality,
	[OP_SCHEDULER] = op_scheduler, [OP_IOPRIO] = op_ioprio, [OP_CPU_AFFINITY] = op_cpu_affinity,
	[OP_SESSION_KEYRING] = op_session_keyring, [OP_CLOSE_FD] = op_close_fd,
	[OP_LISTEN_START] = op_listen_start, [OP_READY] = op_ready, [OP_WAIT_START] = op_wait_start,
	[OP_FIND_EXEC] = op_find_exec, [OP_EXEC] = op_exec, [OP_CONSOLE] = op_console, [OP_SYNC] = op_sync,
	[OP_ENTER_ROOT] = op_enter_root, [OP_MKDIR] = op_mkdir, [OP_HOOK] = op_hook,
	[OP_APPARMOR] = op_apparmor, [OP_SELINUX_LABEL] = op_selinux_label,
	[OP_CHROOT_TO] = op_chroot_to, [OP_LOOPBACK_UP] = op_loopback_up, [OP_HOME] = op_home,
	[OP_PREPARE_MOUNT] = op_prepare_mount,
	[OP_CLOSE_PRIVATE] = op_close_private, [OP_CLOEXEC_FROM] = op_cloexec_from,
	[OP_JOIN_NS] = op_join_ns, [OP_PIN_PID] = op_pin_pid, [OP_CHECK_PIN] = op_check_pin,
};

/* Node ignores SIGPIPE, and the runtime spawns us with every signal blocked (native/addon/spawn.cc):
 * the container starts with a clean slate. */
static void reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t all;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static uint8_t *receive_plan(size_t *len)
{
	/* One byte 'F' with a sealed memfd holding the plan: read it whole, then close it. */
	char tag = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &tag, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	do
		n = recvmsg(ctx.sync_fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (n != 1 || tag != 'F' || !cm || cm->cmsg_type != SCM_RIGHTS)
		die("receive plan: no plan from the runtime");
	int mfd;
	memcpy(&mfd, CMSG_DATA(cm), sizeof(int));
	struct stat st;
	if (fstat(mfd, &st) < 0)
		die_errno("receive plan");
	uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		die_errno("malloc");
	for (off_t off = 0; off < st.st_size;) {
		ssize_t got = pread(mfd, buf + off, st.st_size - off, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die_errno("receive plan");
		off += got;
	}
	close(mfd);
	*len = st.st_size;
	return buf;
}

void undumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("make the runtime's process non-dumpable");
}

/* OP_EXEC's argv and envp are built before any step runs: after the seccomp filter nothing may allocate. */
static void prepare_exec(const uint8_t *p, const uint8_t *end)
{
	while (end - p >= 8) {
		uint32_t op, plen;
		memcpy(&op, p, 4);
		memcpy(&plen, p + 4, 4);
		p += 8;
		if ((size_t)(end - p) < plen)
			return; /* the main loop reports it */
		if (op == OP_EXEC) {
			struct reader r = { p, p + plen };
			cur_where = rd_str(&r);
			ctx.exec_argv = rd_strv(&r);
			ctx.exec_envp = rd_strv(&r);
			cur_where = "";
		}
		p += plen;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	/* First of all (runc CVE-2016-9962): a process of the container with our uid must not be able to
	 * open /proc/<pid>/fd/N of any stage of ours, whatever fd it holds at the time. */
	undumpable();
	ctx.sync_fd = ctx.report_fd = atoi(argv[1]);
	reset_signals();
	/* The highest capability, probed while nothing is dropped: no procfs needed later. */
	ctx.cap_last = 0;
	while (ctx.cap_last < 63 && prctl(PR_CAPBSET_READ, ctx.cap_last + 1, 0, 0, 0) >= 0)
		ctx.cap_last++;

	size_t len;
	const uint8_t *plan = receive_plan(&len), *end = plan + len;
	prepare_exec(plan, end);
	while (plan < end) {
		uint32_t op, plen;
		if (end - plan < 8)
			die("malformed plan (short header)");
		memcpy(&op, plan, 4);
		memcpy(&plen, plan + 4, 4);
		plan += 8;
		if ((size_t)(end - plan) < plen)
			die("malformed plan (record overruns)");
		struct reader r = { plan, plan + plen };
		plan += plen;
		cur_where = rd_str(&r);
		if (op >= OP_MAX || !handlers[op])
			die("unknown plan op %u", op);
		errno = 0;
		handlers[op](&r);
	}
	die("plan ended without exec");
}
