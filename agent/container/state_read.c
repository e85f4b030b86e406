#include "state_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/container/json_read.h"
#include "agent/container/state.h"

void pd_state_view_free(struct pd_state_view *v)
{
	free(v->id);
	free(v->created);
	free(v->status);
	free(v->rootfs);
	free(v->hostname);
	memset(v, 0, sizeof(*v));
}

/* A string member, decoded; "" when absent and optional. */
static int get_string(const struct pd_json_doc *d, int obj, const char *key, bool required,
		      char **out, struct pd_error *err)
{
	int t = pd_json_get(d, obj, key);
	if (t < 0 && !required)
		*out = strdup("");
	else if (pd_json_type(d, t) != PD_JSON_STRING)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "state: \"%s\" missing or not a string", key);
	else
		*out = pd_json_str(d, t);
	if (!*out)
		return pd_error_errno(err, ENOMEM, "state: \"%s\"", key);
	return 0;
}

/* init_process_start: a number, or a string of digits in runc before 1.0. */
static int get_start(const struct pd_json_doc *d, uint64_t *out, struct pd_error *err)
{
	int t = pd_json_get(d, 0, "init_process_start");
	*out = 0;
	if (t < 0 || pd_json_uint64(d, t, out) == 0)
		return 0;
	char *s = pd_json_str(d, t), *end = NULL;
	if (s && *s >= '0' && *s <= '9') {
		errno = 0;
		*out = strtoull(s, &end, 10);
	}
	bool ok = end && !*end && !errno;
	free(s);
	return ok ? 0
		  : pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				 "state: \"init_process_start\" is not a number");
}

static int view_fields(const struct pd_json_doc *d, struct pd_state_view *v, struct pd_error *err)
{
	if (pd_json_type(d, 0) != PD_JSON_OBJECT)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "state: not an object");
	if (get_string(d, 0, "id", true, &v->id, err) < 0 ||
	    get_string(d, 0, "created", true, &v->created, err) < 0 ||
	    get_string(d, 0, "status", false, &v->status, err) < 0 ||
	    get_start(d, &v->init_start, err) < 0)
		return -1;
	if (pd_json_int64(d, pd_json_get(d, 0, "init_process_pid"), &v->init_pid) < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "state: \"init_process_pid\" missing or not an integer");
	int cfg = pd_json_get(d, 0, "config");
	if (pd_json_type(d, cfg) != PD_JSON_OBJECT)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "state: \"config\" missing or not an object");
	if (get_string(d, cfg, "rootfs", true, &v->rootfs, err) < 0 ||
	    get_string(d, cfg, "hostname", false, &v->hostname, err) < 0)
		return pd_error_wrap(err, "config");
	int st = pd_json_get(d, 0, "status");
	if (pd_json_type(d, st) == PD_JSON_STRING) {
		v->has_status = true;
		pd_json_span(d, st, &v->status_start, &v->status_end);
	}
	return 0;
}

int pd_state_view_parse(const char *text, size_t len, struct pd_state_view *v, struct pd_error *err)
{
	struct pd_json_doc d;
	memset(v, 0, sizeof(*v));
	if (pd_json_parse(&d, text, len, PD_STATE_MAX_TOKENS, err) < 0)
		return pd_error_wrap(err, "state");
	int rc = view_fields(&d, v, err);
	pd_json_doc_free(&d);
	if (rc < 0)
		pd_state_view_free(v);
	return rc;
}

int pd_state_read_file(const char *path, size_t max, char **out, size_t *len, struct pd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	size_t n = 0, cap = 4096;
	char *buf = NULL;
	int rc = 0;
	for (;;) {
		if (n + 1 >= cap || !buf) {
			cap = buf ? cap * 2 : cap;
			char *b = realloc(buf, cap);
			if (!b) {
				rc = pd_error_errno(err, ENOMEM, "read %s", path);
				break;
			}
			buf = b;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pd_error_errno(err, errno, "read %s", path);
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = pd_error_set(err, PD_RESOURCE_EXHAUSTED, EFBIG,
					  "%s: larger than %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int pd_state_view_load(const char *path, struct pd_state_view *v, char **text, size_t *len,
		       struct pd_error *err)
{
	char *buf;
	size_t n;
	memset(v, 0, sizeof(*v));
	if (pd_state_read_file(path, PD_STATE_MAX_BYTES, &buf, &n, err) < 0)
		return -1;
	if (pd_state_view_parse(buf, n, v, err) < 0) {
		free(buf);
		return pd_error_wrap(err, "%s", path);
	}
	if (text) {
		*text = buf;
		*len = n;
	} else {
		free(buf);
	}
	return 0;
}
