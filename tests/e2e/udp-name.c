// SPDX-License-Identifier: GPL-2.0
/*
 * udp-name NAME ADDRESS PORT [peer]: answer every UDP datagram to ADDRESS:PORT with NAME, from that
 * address; with "peer", NAME and the sender's address as this real saw it (NAT e2e: the client's,
 * or a FULLNAT pool address). The e2e reals run it on their VIPs. (socat's UDP-RECVFROM,fork loses about one
 * request in 25 to a race between parent and child, which made the UDP scenarios flaky.)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* "NAME ADDRESS\n": the sender as the socket saw it. */
static int peer_reply(char *out, size_t size, const char *name, const struct sockaddr_storage *peer)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (peer->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, a, sizeof(a));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, a, sizeof(a));
	return snprintf(out, size, "%s %s\n", name, a);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage me = { 0 }, peer;
	struct sockaddr_in *me4 = (struct sockaddr_in *)&me;
	struct sockaddr_in6 *me6 = (struct sockaddr_in6 *)&me;
	char buf[2048], reply[256];
	socklen_t len;
	int fd, n, one = 1;

	if (argc != 4 && (argc != 5 || strcmp(argv[4], "peer"))) {
		fprintf(stderr, "usage: udp-name NAME ADDRESS PORT [peer]\n");
		return 1;
	}
	if (inet_pton(AF_INET, argv[2], &me4->sin_addr) == 1) {
		me4->sin_family = AF_INET;
		me4->sin_port = htons(atoi(argv[3]));
		len = sizeof(*me4);
	} else if (inet_pton(AF_INET6, argv[2], &me6->sin6_addr) == 1) {
		me6->sin6_family = AF_INET6;
		me6->sin6_port = htons(atoi(argv[3]));
		len = sizeof(*me6);
	} else {
		fprintf(stderr, "udp-name: bad address %s\n", argv[2]);
		return 1;
	}
	fd = socket(me.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&me, len)) {
		perror("udp-name: socket/bind");
		return 1;
	}
	n = snprintf(reply, sizeof(reply), "%s\n", argv[1]);
	for (;;) {
		socklen_t plen = sizeof(peer);

		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen) < 0)
			continue;
		if (argc == 5)
			n = peer_reply(reply, sizeof(reply), argv[1], &peer);
		sendto(fd, reply, n, 0, (struct sockaddr *)&peer, plen);
	}
}
