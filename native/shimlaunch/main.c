/*
 * containerd-shim-tsrunc-v2, the binary containerd runs: a small static launcher in front of the Node
 * shim (dist/containerd-shim-tsrunc-v2.cjs). containerd 1.6 runs `start` and `delete` once per container
 * each, and both wait on it: a Node start (~60-100 ms here) per call was most of `ctr run --rm`.
 *   start:  the common case (no options on stdin, a well-formed config.json) is done here: name and bind
 *           the socket, spawn the detached Node server on it (fd 3), write the pid and address files,
 *           print the address. What the Node `start` does, in the same order (src/shim/service/cmd-start.ts).
 *   delete: when the server deleted the container itself and recorded so in the bundle (the marker
 *           below) and a check finds nothing left, print the DeleteResponse. Anything else, the Node
 *           `delete` cleans up (src/shim/service/cmd-delete.ts).
 * Every other case (other actions, -v, unknown flags, options other than a grouping, escapes or odd values in config.json, any
 * error) execs the Node shim with the same argv, which decides and reports: TypeScript thinks, C acts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "launch.h"

static char **g_argv;
static char g_dir[PATH_MAX]; /* where this binary is (dist/) */

/* The Node shim, by a name that ends in the binary's (process listings, the engine tests). */
void node_script(char *out, size_t n)
{
	snprintf(out, n, "%s/shim-js/containerd-shim-tsrunc-v2", g_dir);
	if (access(out, R_OK) != 0)
		snprintf(out, n, "%s/containerd-shim-tsrunc-v2.cjs", g_dir);
}

/* Hands the call to the Node shim, argv unchanged. */
static int exec_node(void)
{
	char script[PATH_MAX];
	int argc = 0;
	node_script(script, sizeof script);
	while (g_argv[argc])
		argc++;
	char **args = calloc((size_t)argc + 2, sizeof *args);
	if (!args)
		return 1;
	args[0] = "node";
	args[1] = script;
	options_restore_stdin();
	for (int i = 1; i < argc; i++)
		args[i + 1] = g_argv[i];
	execvp("node", args);
	fprintf(stderr, "containerd-shim-tsrunc-v2: exec node: %s\n", strerror(errno));
	return 127;
}

/* Go's flag syntax as src/shim/service/flags.ts reads it; -1 for anything it would reject. */
static int parse_flags(int argc, char **argv, struct flags *f)
{
	int i = 1;
	memset(f, 0, sizeof *f);
	f->namespace = f->id = f->address = f->bundle = f->socket = "";
	f->publish_binary = "containerd";
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == 0)
			break;
		const char *body = a + 1 + (a[1] == '-');
		const char *eq = strchr(body, '=');
		size_t n = eq ? (size_t)(eq - body) : strlen(body);
#define IS(name) (n == strlen(name) && strncmp(body, name, n) == 0)
		if (IS("debug") || IS("v")) {
			int v = !eq || strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0;
			*(IS("v") ? &f->version : &f->debug) = v;
			continue;
		}
		const char **dst = IS("namespace") ? &f->namespace : IS("id") ? &f->id : IS("address") ? &f->address
			: IS("publish-binary") ? &f->publish_binary : IS("bundle") ? &f->bundle : IS("socket") ? &f->socket : NULL;
#undef IS
		if (!dst)
			return -1;
		if (eq)
			*dst = eq + 1;
		else if (i + 1 < argc)
			*dst = argv[++i];
		else
			return -1;
	}
	f->action = i < argc ? argv[i] : "";
	return 0;
}

int main(int argc, char **argv)
{
	struct flags f;
	char self[PATH_MAX];
	g_argv = argv;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return exec_node() ? 127 : 0;
	self[n] = 0;
	snprintf(g_dir, sizeof g_dir, "%.*s", (int)(strrchr(self, '/') - self), self);
	if (parse_flags(argc, argv, &f) < 0 || f.version || !f.namespace[0])
		return exec_node();
	int r = FALLBACK;
	if (strcmp(f.action, "start") == 0)
		r = cmd_start(&f);
	else if (strcmp(f.action, "delete") == 0)
		r = cmd_delete(&f);
	return r == FALLBACK ? exec_node() : r;
}
