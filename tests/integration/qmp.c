/* qmp SOCKET COMMAND...: drive a QEMU monitor (QMP) for the boot tests — device hotplug, memory
 * DIMMs, CPUs. Each COMMAND is one JSON object ({"execute": ...}); they are sent in order after
 * the capabilities handshake, and each answer's line is printed. Events in between are skipped.
 * Exit 0 when every command returned, 1 on the first {"error": ...}, 2 on I/O or usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static FILE *qmp_open(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path))
		return NULL;
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return NULL;
	}
	return fdopen(fd, "r+");
}

/* One reply line: the next line that is not an asynchronous event. */
static char *qmp_reply(FILE *f, char *buf, size_t size)
{
	while (fgets(buf, (int)size, f)) {
		if (!strstr(buf, "\"event\""))
			return buf;
	}
	return NULL;
}

static int qmp_execute(FILE *f, const char *cmd, int print)
{
	char line[65536];
	if (fprintf(f, "%s\n", cmd) < 0 || fflush(f) != 0)
		return 2;
	if (!qmp_reply(f, line, sizeof(line))) {
		fprintf(stderr, "qmp: no answer to %s\n", cmd);
		return 2;
	}
	if (print)
		fputs(line, stdout);
	if (strstr(line, "\"error\"")) {
		fprintf(stderr, "qmp: %s failed: %s", cmd, line);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char greeting[4096];
	if (argc < 3) {
		fprintf(stderr, "usage: qmp SOCKET COMMAND...\n");
		return 2;
	}
	FILE *f = qmp_open(argv[1]);
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	if (!fgets(greeting, sizeof(greeting), f) || !strstr(greeting, "\"QMP\"")) {
		fprintf(stderr, "qmp: %s is not a QMP monitor\n", argv[1]);
		return 2;
	}
	int rc = qmp_execute(f, "{\"execute\":\"qmp_capabilities\"}", 0);
	for (int i = 2; i < argc && rc == 0; i++)
		rc = qmp_execute(f, argv[i], 1);
	fclose(f);
	return rc;
}
