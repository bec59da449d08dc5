// tsrunc-hookstub PATH ARGV0 ARGS...: the first program of a hook that create runs. It waits on fd 3 for
// "g", sent once create has recorded this pid in its write-ahead journal, then execs the hook (same pid,
// same environment, ARGV0 as argv[0]). If create dies first, fd 3 reads EOF and the hook never runs, so
// no hook process can exist that the journal does not list.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	char go = 0;
	ssize_t n;
	if (argc < 3)
		return 127;
	do
		n = read(3, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'g')
		_exit(126); /* the runtime went away */
	close(3);
	execve(argv[1], argv + 2, environ);
	fprintf(stderr, "exec %s: %s\n", argv[1], strerror(errno));
	_exit(127);
}
