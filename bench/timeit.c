/* timeit: run a command N times and print the order statistics of its wall time.
 *
 *   timeit [-n RUNS] [-w WARMUP] [-e STDERR_FILE] NAME CMD [ARG...]
 *
 * Each run is posix_spawnp + waitpid, timed with CLOCK_MONOTONIC around both (a shell loop
 * would add its own fork and `date` to every figure). The command's stdin and stdout are
 * /dev/null; its stderr goes to STDERR_FILE (appended) or /dev/null. Prints one
 * "RESULT NAME ..." line (bench/bench.h) and "RESULT NAME-fails count=K"; exits 1 if a run
 * failed (a timing of runs that did not work is not a figure). */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

static int run_once(char **argv, const char *err_file, double *us)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err_file ? err_file : "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	double t0 = bn_now_us();
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "timeit: %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	*us = bn_now_us() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	long runs = 30, warm = 2;
	const char *err_file = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "+n:w:e:")) != -1) {
		switch (opt) {
		case 'n':
			runs = bn_positive(optarg, "run count");
			break;
		case 'w':
			warm = atol(optarg);
			break;
		case 'e':
			err_file = optarg;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr,
			"usage: timeit [-n RUNS] [-w WARMUP] [-e STDERR_FILE] NAME CMD...\n");
		return 2;
	}
	const char *name = argv[optind];
	char **cmd = argv + optind + 1;
	double *t = calloc((size_t)runs, sizeof(*t));
	double dummy;
	long fails = 0;
	if (!t)
		return 1;
	for (long i = 0; i < warm; i++)
		fails += run_once(cmd, err_file, &dummy) < 0;
	size_t n = 0;
	for (long i = 0; i < runs; i++) {
		if (run_once(cmd, err_file, &t[n]) < 0)
			fails++;
		else
			n++;
	}
	struct bn_stats s = bn_stats_of(t, n);
	bn_print_stats(name, &s);
	printf("RESULT %s-fails count=%ld\n", name, fails);
	free(t);
	return fails ? 1 : 0;
}
