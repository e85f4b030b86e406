/* sockchat SOCKET TEXT WANT SECONDS: connect to a unix socket (a QEMU chardev), send TEXT
 * ("\n" escapes expanded), then read until WANT shows up (exit 0) or SECONDS pass (exit 1).
 * What was read goes to stdout. For the debug-console check of the boot test. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static size_t unescape(const char *in, char *out)
{
	size_t n = 0;
	for (; *in; in++)
		out[n++] = (in[0] == '\\' && in[1] == 'n') ? (in++, '\n') : *in;
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: sockchat SOCKET TEXT WANT SECONDS\n");
		return 2;
	}
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("connect");
		return 1;
	}
	char text[4096], seen[65536];
	size_t len = unescape(argv[2], text), have = 0;
	if (write(fd, text, len) != (ssize_t)len) {
		perror("write");
		return 1;
	}
	time_t end = time(NULL) + atoi(argv[4]);
	while (time(NULL) < end && have < sizeof(seen) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t n = read(fd, seen + have, sizeof(seen) - 1 - have);
		if (n <= 0)
			break;
		fwrite(seen + have, 1, (size_t)n, stdout);
		have += (size_t)n;
		seen[have] = '\0';
		if (memmem(seen, have, argv[3], strlen(argv[3])))
			return 0;
	}
	return 1;
}
