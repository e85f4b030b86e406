#include "storages.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int no_memory(Grpc__Storage *s, struct pd_error *err)
{
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return pd_error_errno(err, ENOMEM, "storage");
}

/* A Storage with its strings copied; options added with add_option(). */
static Grpc__Storage *storage_new(const char *driver, const char *source, const char *fstype,
				  const char *mount_point)
{
	Grpc__Storage *s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	grpc__storage__init(s);
	s->driver = strdup(driver);
	s->source = strdup(source);
	s->fstype = strdup(fstype);
	s->mount_point = strdup(mount_point);
	if (!s->driver || !s->source || !s->fstype || !s->mount_point) {
		protobuf_c_message_free_unpacked(&s->base, NULL);
		return NULL;
	}
	return s;
}

static int add_option(Grpc__Storage *s, const char *opt, size_t len)
{
	char **more = realloc(s->options, (s->n_options + 1) * sizeof(*more));
	if (!more)
		return -1;
	s->options = more;
	if (!(s->options[s->n_options] = strndup(opt, len)))
		return -1;
	s->n_options++;
	return 0;
}

static const char *driver_fstype(const char *driver)
{
	if (!strcmp(driver, "virtio-fs"))
		return "virtiofs";
	if (!strcmp(driver, "ephemeral"))
		return "tmpfs";
	return driver; /* 9p, local, bind, ... */
}

/* "opt,opt,fstype=x" into s->options, taking fstype= out. */
static int add_options(Grpc__Storage *s, const char *list)
{
	while (*list) {
		size_t len = strcspn(list, ",");
		if (len > 7 && !strncmp(list, "fstype=", 7)) {
			char *type = strndup(list + 7, len - 7);
			if (!type)
				return -1;
			free(s->fstype);
			s->fstype = type;
		} else if (len > 0 && add_option(s, list, len) < 0) {
			return -1;
		}
		list += len + (list[len] == ',');
	}
	return 0;
}

int pd_ctl_parse_storage(const char *text, Grpc__Storage **out, struct pd_error *err)
{
	char *copy = strdup(text);
	if (!copy)
		return pd_error_errno(err, ENOMEM, "storage");
	char *rest = copy;
	char *driver = strsep(&rest, ":"), *source = strsep(&rest, ":");
	char *mp = strsep(&rest, ":"), *options = rest; /* options keep any further ':' */
	if (!driver[0] || !source || !mp || mp[0] != '/') {
		free(copy);
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "storage '%s': want DRIVER:SOURCE:/MOUNTPOINT[:OPT,OPT...]",
				    text);
	}
	Grpc__Storage *s = storage_new(driver, source, driver_fstype(driver), mp);
	int rc = s ? 0 : pd_error_errno(err, ENOMEM, "storage");
	if (s && options && add_options(s, options) < 0)
		rc = no_memory(s, err);
	free(copy);
	if (rc == 0)
		*out = s;
	return rc;
}

int pd_ctl_share_storage(const char *driver, const char *tag, Grpc__Storage **out,
			 struct pd_error *err)
{
	char msize[32];
	snprintf(msize, sizeof(msize), "msize=%d", PD_CTL_9P_MSIZE);
	/* Kata's 9p options: the first one is a single comma-joined option, as it sends it */
	const char *const p9[] = {"trans=virtio,version=9p2000.L,cache=mmap", "nodev", msize};
	bool is_9p = !strcmp(driver, "9p");
	Grpc__Storage *s = storage_new(driver, tag, driver_fstype(driver), PD_CTL_KATA_SHARED_DIR);
	if (!s)
		return pd_error_errno(err, ENOMEM, "storage");
	for (size_t i = 0; is_9p && i < sizeof(p9) / sizeof(p9[0]); i++)
		if (add_option(s, p9[i], strlen(p9[i])) < 0)
			return no_memory(s, err);
	*out = s;
	return 0;
}

int pd_ctl_shm_storage(unsigned long long bytes, Grpc__Storage **out, struct pd_error *err)
{
	char size[40];
	snprintf(size, sizeof(size), "size=%llu", bytes);
	const char *const opts[] = {"noexec", "nosuid", "nodev", "mode=1777", size};
	Grpc__Storage *s = storage_new("ephemeral", "shm", "tmpfs", PD_CTL_KATA_SHM_DIR);
	if (!s)
		return pd_error_errno(err, ENOMEM, "storage");
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (add_option(s, opts[i], strlen(opts[i])) < 0)
			return no_memory(s, err);
	*out = s;
	return 0;
}
