#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_level = PD_LOG_INFO;
static int log_sink = -1;

void pd_log_set_level(int level)
{
	log_level = level;
}

int pd_log_get_level(void)
{
	return log_level;
}

void pd_log_set_sink(int fd)
{
	log_sink = fd;
}

const char *pd_log_level_name(int level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	if (level < PD_LOG_ERROR || level > PD_LOG_DEBUG)
		return "info";
	return names[level];
}

int pd_log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} map[] = {
		{"critical", PD_LOG_ERROR}, {"fatal", PD_LOG_ERROR}, {"panic", PD_LOG_ERROR},
		{"error", PD_LOG_ERROR},    {"warn", PD_LOG_WARN},   {"warning", PD_LOG_WARN},
		{"info", PD_LOG_INFO},	    {"debug", PD_LOG_DEBUG}, {"trace", PD_LOG_DEBUG},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].level;
	return -1;
}

/* Writes the whole line with one write() per sink so lines from the container-setup
 * child (which shares stderr before exec) never interleave mid-line. */
static void emit(const char *line, size_t len)
{
	if (write(STDERR_FILENO, line, len) < 0) {
		/* nothing sensible to do: the console is gone */
	}
	if (log_sink >= 0 && write(log_sink, line, len) < 0) {
		/* a vport without a reader: drop rather than block pid 1 */
	}
}

void pd_log(int level, const char *msg, const char *kv, ...)
{
	if (level > log_level)
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
			 "time=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=\"%s\"",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, pd_log_level_name(level), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (kv && kv[0] && (size_t)n < sizeof(line) - 3) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, kv);
		int m = vsnprintf(line + n, sizeof(line) - n - 1, kv, ap);
		va_end(ap);
		if (m > 0)
			n += ((size_t)m < sizeof(line) - n - 1) ? m : (int)(sizeof(line) - n - 2);
	}
	line[n++] = '\n';
	emit(line, n);
}
