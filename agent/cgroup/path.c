/* Where a container's cgroup goes: Linux.CgroupsPath as the Kata agent reads it (the
 * cgroupfs driver; a systemd "slice:prefix:name" has its colons turned into slashes), or
 * "<cid>" when the spec has none, always relative to the root and clean. */
#include "cgroup_internal.h"

#include <errno.h>
#include <string.h>

/* Append the components of `in` to out (at *len), ':' and '/' both separating. */
static int append_clean(const char *in, char *out, size_t size, size_t *len, struct pd_error *err)
{
	for (const char *p = in; *p;) {
		size_t w = strcspn(p, "/:");
		if (w == 0) {
			p++;
			continue;
		}
		if ((w == 1 && p[0] == '.') || (w == 2 && p[0] == '.' && p[1] == '.'))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "cgroups path '%.200s': '.' or '..' component", in);
		for (size_t i = 0; i < w; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
						    "cgroups path '%.200s': control character", in);
		if (*len + (*len ? 1 : 0) + w >= size)
			return pd_error_set(err, PD_INVALID_ARGUMENT, ENAMETOOLONG,
					    "cgroups path '%.200s': longer than %zu bytes", in,
					    size - 1);
		if (*len)
			out[(*len)++] = '/';
		memcpy(out + *len, p, w);
		*len += w;
		out[*len] = '\0';
		p += w;
	}
	return 0;
}

int pd_cgroup_path_from_spec(const char *parent, const char *cgroups_path, const char *cid,
			     char *out, size_t size, struct pd_error *err)
{
	size_t len = 0;
	if (size > PD_CGROUP_PATH_MAX + 1)
		size = PD_CGROUP_PATH_MAX + 1;
	out[0] = '\0';
	if (parent && append_clean(parent, out, size, &len, err) < 0)
		return pd_error_wrap(err, "cgroup parent");
	size_t before = len;
	const char *own = cgroups_path && cgroups_path[0] ? cgroups_path : cid;
	if (append_clean(own, out, size, &len, err) < 0)
		return -1;
	if (len == before)
		/* "/" would be the root cgroup: killing "every process in it" would kill the
		 * whole guest, pidone included. */
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "cgroups path '%.200s' names the root cgroup", own);
	return 0;
}
