/* Test driver for native/shimlaunch's group and socket naming: ADDRESS NS ID FILE... prints, per
 * config.json FILE, "F" (left to the Node shim) or "G <group>\t<socket path>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "group.h"
#include "launch.h"

static const char *const KEYS[] = { "io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id", NULL };

int main(int argc, char **argv)
{
	for (int i = 4; i < argc; i++) {
		size_t len, glen = strlen(argv[3]);
		const char *group = argv[3];
		char sock[SOCKET_PATH_MAX];
		char *doc = read_file(argv[i], 64 << 20, &len);
		if (!doc || find_group(doc, len, KEYS, &group, &glen) < 0 || shim_socket_path(argv[1], argv[2], group, glen, sock) < 0)
			printf("F\n");
		else
			printf("G %.*s\t%s\n", (int)glen, group, sock);
		free(doc);
	}
	return 0;
}
