/* The shim socket's name, as src/shim/ttrpc/address.ts (shimSocketAddress) makes it. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "launch.h"
#include "sha256.h"

int normalized(const char *p)
{
	const char *s = p;
	if (*s == '/')
		s++;
	for (;;) {
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!*e)
			return 1;
		s = e + 1;
	}
}

int shim_socket_path(const char *address, const char *ns, const char *group, size_t glen, char out[SOCKET_PATH_MAX])
{
	char key[PATH_MAX * 2];
	int n = snprintf(key, sizeof key, "%s/%s/%.*s", address, ns, (int)glen, group);
	/* Only when path.join() would leave the key as it is (and no NUL hides in the group). */
	if (!address[0] || n <= 0 || (size_t)n >= sizeof key || strlen(key) != (size_t)n || !normalized(key))
		return -1;
	uint8_t digest[32];
	sha256(key, (size_t)n, digest);
	int o = snprintf(out, SOCKET_PATH_MAX, "%s/", SOCKET_DIR);
	for (int i = 0; i < 32; i++)
		o += snprintf(out + o, SOCKET_PATH_MAX - (size_t)o, "%02x", digest[i]);
	return 0;
}
