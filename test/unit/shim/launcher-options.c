/* Test driver for native/shimlaunch's reading of the shim's config file: FILE... prints, per config
 * document, "F" (left to the Node shim), "sandbox" or "namespace". */
#include <stdio.h>
#include <stdlib.h>
#include "launch.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t len;
		char *doc = read_file(argv[i], 1 << 20, &len);
		int g = doc ? options_config_grouping(doc, len) : FALLBACK;
		printf("%s\n", g == GROUP_SANDBOX ? "sandbox" : g == GROUP_NAMESPACE ? "namespace" : "F");
		free(doc);
	}
	return 0;
}
