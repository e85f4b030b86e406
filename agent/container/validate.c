#include "validate.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"

/* The C locale's isalnum() is ASCII already, but musl and glibc differ in what a locale can
 * change; spelling the ranges out keeps "é" out whatever the locale. */
static bool is_ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *pd_shown(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	if (size == 0)
		return buf;
	if (!s)
		s = "(null)";
	for (; s[i] && i < PD_SHOWN_LEN && i + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (s[i] && i + 3 < size) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

int pd_validate_container_id(const char *id, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];

	if (!id || !id[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "container id: empty");
	size_t len = strnlen(id, PD_ID_MAX + 1);
	if (len < 2 || len > PD_ID_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "container id '%s': must be 2 to %d characters",
				    pd_shown(id, shown, sizeof(shown)), PD_ID_MAX);
	if (!is_ascii_alnum(id[0]))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "container id '%s': must start with a letter or digit",
				    pd_shown(id, shown, sizeof(shown)));
	for (size_t i = 1; i < len; i++) {
		char c = id[i];
		if (!is_ascii_alnum(c) && c != '_' && c != '.' && c != '-')
			return pd_error_set(
			    err, PD_INVALID_ARGUMENT, 0,
			    "container id '%s': character %zu not in [A-Za-z0-9_.-]",
			    pd_shown(id, shown, sizeof(shown)), i);
	}
	return 0;
}

int pd_validate_exec_id(const char *id, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];

	if (!id || !id[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "exec id: empty");
	size_t len = strnlen(id, PD_ID_MAX + 1);
	if (len > PD_ID_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "exec id '%s': longer than %d characters",
				    pd_shown(id, shown, sizeof(shown)), PD_ID_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= ' ' || c >= 0x7f || c == '/')
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "exec id '%s': character %zu is a space, control, "
					    "non-ASCII or '/'",
					    pd_shown(id, shown, sizeof(shown)), i);
	}
	return 0;
}

/* Length of the component at p (up to the next '/' or the end). */
static size_t component_len(const char *p)
{
	const char *slash = strchr(p, '/');
	return slash ? (size_t)(slash - p) : strlen(p);
}

/* Walk the components of an absolute path; write the clean form to out (may be NULL).
 * Returns -1 at a ".." component. out needs strlen(path) + 1 bytes. */
static int clean_components(const char *path, char *out)
{
	size_t n = 0;

	for (const char *p = path; *p;) {
		if (*p == '/') {
			p++;
			continue;
		}
		size_t len = component_len(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (!(len == 1 && p[0] == '.') && out) {
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	if (out) {
		if (n == 0)
			out[n++] = '/';
		out[n] = '\0';
	}
	return 0;
}

int pd_validate_abs_path(const char *path, const char *what, struct pd_arena *a, char **clean,
			 struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];

	if (!path || !path[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s: empty path", what);
	size_t len = strnlen(path, PATH_MAX);
	if (len >= PATH_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s: path '%s' longer than %d bytes", what,
				    pd_shown(path, shown, sizeof(shown)), PATH_MAX - 1);
	if (path[0] != '/')
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s: relative path '%s'", what,
				    pd_shown(path, shown, sizeof(shown)));
	char *out = NULL;
	if (a && clean) {
		out = pd_arena_alloc(a, len + 1);
		if (!out)
			return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
					    "%s: out of memory for the path", what);
	}
	if (clean_components(path, out) < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s: '..' in path '%s'", what,
				    pd_shown(path, shown, sizeof(shown)));
	if (out)
		*clean = out;
	return 0;
}
