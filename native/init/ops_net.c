/* Stage 1, network: a new network namespace starts with lo down; containers expect it up (runc, crun). */
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "init.h"

void op_loopback_up(struct reader *r)
{
	(void)r;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("socket for lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die_errno("get the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die_errno("bring lo up");
	close(fd);
}
