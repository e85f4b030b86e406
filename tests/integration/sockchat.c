/* sockchat SOCKET TEXT WANT SECONDS: connect to a unix socket (a QEMU chardev) or, inside a
 * guest, to vsock://CID:PORT; send TEXT ("\n" escapes expanded; may be empty), then read until
 * WANT shows up (exit 0) or SECONDS pass (exit 1). What was read goes to stdout. Exit 3: the
 * peer closed the connection (EOF, or a reset on a write or read) before WANT — what the
 * agent's vsock ports do to anyone but the host (qemu-tests/vsock.sh); the count of bytes
 * received goes to stderr. Exit 2: usage, 4: connect failed. For the
 * debug-console checks of the boot test: build/itest/sockchat on the host (unix sockets only),
 * build/sockchat-static (-DSOCKCHAT_VSOCK, musl) in the guest for its vsock ports. */
#include <linux/vm_sockets.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VSOCK_PREFIX "vsock://"

static size_t unescape(const char *in, char *out)
{
	size_t n = 0;
	for (; *in; in++)
		out[n++] = (in[0] == '\\' && in[1] == 'n') ? (in++, '\n') : *in;
	return n;
}

/* vsock://CID:PORT (decimal) or a unix socket path. */
static int dial(const char *where)
{
	union {
		struct sockaddr sa;
		struct sockaddr_un sun;
		struct sockaddr_vm svm;
	} a;
	socklen_t len;
	unsigned cid, port;
	char end;
	memset(&a, 0, sizeof(a));
	if (strncmp(where, VSOCK_PREFIX, strlen(VSOCK_PREFIX)) == 0) {
#ifndef SOCKCHAT_VSOCK
		/* The host build never dials vsock: CID 2 on this host is its own hypervisor. */
		errno = EAFNOSUPPORT;
		return -1;
#endif
		if (sscanf(where + strlen(VSOCK_PREFIX), "%u:%u%c", &cid, &port, &end) != 2) {
			errno = EINVAL;
			return -1;
		}
		a.svm.svm_family = AF_VSOCK;
		a.svm.svm_cid = cid;
		a.svm.svm_port = port;
		len = sizeof(a.svm);
	} else {
		a.sun.sun_family = AF_UNIX;
		snprintf(a.sun.sun_path, sizeof(a.sun.sun_path), "%s", where);
		len = sizeof(a.sun);
	}
	int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, &a.sa, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int closed(size_t have, const char *how)
{
	fflush(stdout);
	fprintf(stderr, "sockchat: closed by the peer (%s) after %zu bytes\n", how, have);
	return 3;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: sockchat SOCKET TEXT WANT SECONDS\n");
		return 2;
	}
	int fd = dial(argv[1]);
	if (fd < 0) {
		perror(argv[1]);
		return 4;
	}
	char text[4096], seen[65536];
	size_t len = unescape(argv[2], text), have = 0;
	/* MSG_NOSIGNAL: a peer that closed at once is exit 3, not a death by SIGPIPE. */
	if (len && send(fd, text, len, MSG_NOSIGNAL) != (ssize_t)len) {
		if (errno == EPIPE || errno == ECONNRESET)
			return closed(0, "send");
		perror("send");
		return 1;
	}
	time_t end = time(NULL) + atoi(argv[4]);
	while (time(NULL) < end && have < sizeof(seen) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t n = read(fd, seen + have, sizeof(seen) - 1 - have);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return closed(have, n == 0 ? "EOF" : "ECONNRESET");
		if (n < 0)
			break;
		fwrite(seen + have, 1, (size_t)n, stdout);
		have += (size_t)n;
		seen[have] = '\0';
		if (memmem(seen, have, argv[3], strlen(argv[3])))
			return 0;
	}
	return 1;
}
