// SPDX-License-Identifier: GPL-2.0
/*
 * A passive-FTP-like pair of connections for the persistence scenarios (tests/e2e/run.sh).
 *
 *   pasv-name serve NAME PORT          on a real: for each "control" connection to PORT, listen
 *                                      on a new port of the address the client reached (the VIP),
 *                                      send "NAME DATAPORT\n", send "NAME\n" on the one "data"
 *                                      connection that port gets, then close both (as an FTP
 *                                      server keeps the control connection open during a transfer)
 *   pasv-name session VIP PORT SOURCE  on the client: from SOURCE, the control connection, then
 *                                      the data connection to VIP:DATAPORT; prints
 *                                      "CONTROLNAME DATANAME", DATANAME "-" when the data
 *                                      connection was refused or unanswered (it reached a real
 *                                      that does not listen on that port) and exits 3 then
 *
 * Every wait is bounded (5 s), so a lost session fails the test instead of hanging it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define WAIT_MS 5000

static int parse_addr(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	fprintf(stderr, "pasv-name: bad address %s\n", text);
	return -1;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect() too */
}

/* One line (without its '\n') into buf; -1 on EOF, error or timeout before the '\n'. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = recv(fd, buf + n, 1, 0);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return 0;
		}
		n++;
	}
	return -1;
}

static int send_line(int fd, const char *text)
{
	size_t len = strlen(text);

	return send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* The control connection's child: a data port on the address the client reached. */
static int serve_session(int ctl, const char *name)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	struct pollfd pfd = { .events = POLLIN };
	char line[128];
	int lfd, data;

	set_timeouts(ctl);
	if (getsockname(ctl, (struct sockaddr *)&me, &len))
		return 1;
	if (me.ss_family == AF_INET)
		((struct sockaddr_in *)&me)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&me)->sin6_port = 0;
	lfd = socket(me.ss_family, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&me, len) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&me, &len))
		return 1;
	snprintf(line, sizeof(line), "%s %u\n", name,
		 ntohs(me.ss_family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port
					       : ((struct sockaddr_in6 *)&me)->sin6_port));
	if (send_line(ctl, line))
		return 1;
	pfd.fd = lfd;
	if (poll(&pfd, 1, WAIT_MS) != 1)
		return 1; /* the data connection went elsewhere */
	data = accept(lfd, NULL, NULL);
	if (data < 0)
		return 1;
	snprintf(line, sizeof(line), "%s\n", name);
	send_line(data, line);
	close(data);
	close(ctl);
	return 0;
}

static int serve(const char *name, int port)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = in6addr_any };
	int fd, one = 1, zero = 0;

	signal(SIGCHLD, SIG_IGN); /* children reap themselves */
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) || listen(fd, 128)) {
		perror("pasv-name: control socket");
		return 1;
	}
	for (;;) {
		int ctl = accept(fd, NULL, NULL);

		if (ctl < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			_exit(serve_session(ctl, name));
		}
		close(ctl);
	}
}

/* A connection from SOURCE (any port) to VIP:PORT, or -1. */
static int dial(const char *source, const char *vip, int port)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	int fd;

	if (parse_addr(source, 0, &src, &slen) || parse_addr(vip, port, &dst, &dlen))
		return -1;
	fd = socket(dst.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	set_timeouts(fd);
	if (bind(fd, (struct sockaddr *)&src, slen) || connect(fd, (struct sockaddr *)&dst, dlen)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int session(const char *vip, int port, const char *source)
{
	char line[128], data_name[128], *space;
	int ctl, data;

	ctl = dial(source, vip, port);
	if (ctl < 0 || read_line(ctl, line, sizeof(line)) || !(space = strchr(line, ' '))) {
		fprintf(stderr, "pasv-name: control connection %s -> %s:%d: %s\n", source, vip, port,
			strerror(errno));
		return 1;
	}
	*space = 0;
	data = dial(source, vip, atoi(space + 1));
	if (data < 0 || read_line(data, data_name, sizeof(data_name))) {
		printf("%s -\n", line);
		return 3;
	}
	printf("%s %s\n", line, data_name);
	close(data);
	close(ctl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "session"))
		return session(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: pasv-name serve NAME PORT | pasv-name session VIP PORT SOURCE\n");
	return 2;
}
