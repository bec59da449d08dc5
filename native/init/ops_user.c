/*
 * HOME for a process whose env has none: the home directory of its uid in the container's /etc/passwd,
 * else "/", as runc does. The file is opened inside the rootfs (RESOLVE_IN_ROOT), must be a regular
 * file (a FIFO would hang us) and is read up to a bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "init.h"

#define PASSWD_MAX (4 << 20)

static char home_env[PATH_MAX + 8];

/* The home field of `uid`'s line in the passwd text, copied to out; 0 if there is none. */
static int passwd_home(char *text, unsigned long uid, char *out, size_t len)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* name:password:uid:gid:gecos:home:shell */
		char *f[7] = { 0 };
		int n = 0;
		for (char *p = line; n < 7; n++) {
			f[n] = p;
			p = strchr(p, ':');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (n < 5 || !f[2][0])
			continue;
		char *end;
		unsigned long id = strtoul(f[2], &end, 10);
		if (*end || id != uid)
			continue;
		if (!f[5][0])
			return 0;
		snprintf(out, len, "%s", f[5]);
		return 1;
	}
	return 0;
}

void op_home(struct reader *r)
{
	unsigned long uid = (unsigned long)rd_u64(r);
	char home[PATH_MAX] = "/";
	int fd = open_in_root("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < PASSWD_MAX) {
		char *text = malloc((size_t)st.st_size + 1);
		ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
		if (got >= 0) {
			text[got] = '\0';
			if (!passwd_home(text, uid, home, sizeof(home)))
				snprintf(home, sizeof(home), "/");
		}
		free(text);
	}
	if (fd >= 0)
		close(fd);
	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
	/* OP_EXEC's envp was built before any step (nothing may allocate after the seccomp filter). */
	ctx.exec_envp = env_with_home(ctx.exec_envp);
}

char **env_with_home(char **env)
{
	if (!home_env[0])
		return env;
	size_t n = 0;
	while (env[n])
		n++;
	char **out = malloc((n + 2) * sizeof(*out));
	if (!out)
		return env;
	memcpy(out, env, n * sizeof(*out));
	out[n] = home_env;
	out[n + 1] = NULL;
	return out;
}
