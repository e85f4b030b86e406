/* Structured logging: one line per event,
 *   time=2026-11-29T02:15:23.123Z level=info msg="listening" addr=unix:///x
 * to the console (stderr) and, when set, to a second fd (agent.log_vport).
 * Library code logs only at debug; the caller that handles an error logs it once. */
#ifndef PD_LOG_H
#define PD_LOG_H

enum pd_log_level {
	PD_LOG_ERROR = 0,
	PD_LOG_WARN = 1,
	PD_LOG_INFO = 2,
	PD_LOG_DEBUG = 3,
};

void pd_log_set_level(int level);
int pd_log_get_level(void);
/* Extra sink (a vport fd); -1 turns it off. The fd is not owned. */
void pd_log_set_sink(int fd);

/* kv is a printf format for the key=value tail ("" or NULL for none). msg is quoted. */
void pd_log(int level, const char *msg, const char *kv, ...) __attribute__((format(printf, 3, 4)));

#define pd_error_log(msg, ...) pd_log(PD_LOG_ERROR, msg, __VA_ARGS__)
#define pd_warn(msg, ...)      pd_log(PD_LOG_WARN, msg, __VA_ARGS__)
#define pd_info(msg, ...)      pd_log(PD_LOG_INFO, msg, __VA_ARGS__)
#define pd_debug(msg, ...)     pd_log(PD_LOG_DEBUG, msg, __VA_ARGS__)

/* "error" "warn" "info" "debug"; Kata's names (critical, fatal, panic, warning, trace) map
 * to the nearest. Returns -1 for an unknown name. */
int pd_log_level_parse(const char *name);
const char *pd_log_level_name(int level);

#endif
