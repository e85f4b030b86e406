#include "mountopts.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

struct flag_option {
	const char *name;
	unsigned long flag;
	bool clear; /* the option turns the flag off ("rw", "suid", "atime" ...) */
};

static const struct flag_option flag_options[] = {
    {"defaults", 0, false},
    {"ro", MS_RDONLY, false},
    {"rw", MS_RDONLY, true},
    {"nosuid", MS_NOSUID, false},
    {"suid", MS_NOSUID, true},
    {"nodev", MS_NODEV, false},
    {"dev", MS_NODEV, true},
    {"noexec", MS_NOEXEC, false},
    {"exec", MS_NOEXEC, true},
    {"sync", MS_SYNCHRONOUS, false},
    {"async", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, false},
    {"remount", MS_REMOUNT, false},
    {"mand", MS_MANDLOCK, false},
    {"nomand", MS_MANDLOCK, true},
    {"noatime", MS_NOATIME, false},
    {"atime", MS_NOATIME, true},
    {"nodiratime", MS_NODIRATIME, false},
    {"diratime", MS_NODIRATIME, true},
    {"relatime", MS_RELATIME, false},
    {"norelatime", MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, false},
    {"nostrictatime", MS_STRICTATIME, true},
    {"lazytime", MS_LAZYTIME, false},
    {"nolazytime", MS_LAZYTIME, true},
    {"nosymfollow", MS_NOSYMFOLLOW, false},
    {"symfollow", MS_NOSYMFOLLOW, true},
    {"bind", MS_BIND, false},
    {"rbind", MS_BIND | MS_REC, false},
};

static const struct {
	const char *name;
	unsigned long flags;
} propagation_options[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int pd_mount_propagation_from_name(const char *name, unsigned long *propagation)
{
	for (size_t i = 0; i < ARRAY_LEN(propagation_options); i++)
		if (strcmp(name, propagation_options[i].name) == 0) {
			*propagation = propagation_options[i].flags;
			return 0;
		}
	return -1;
}

static const struct flag_option *find_flag_option(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(flag_options); i++)
		if (strcmp(name, flag_options[i].name) == 0)
			return &flag_options[i];
	return NULL;
}

static bool is_data_option(const char *opt)
{
	unsigned long ignored;
	return opt && opt[0] && !find_flag_option(opt) &&
	       pd_mount_propagation_from_name(opt, &ignored) < 0;
}

/* Join the data options into one string in the arena; NULL in *data when there are none. */
static int join_data(char *const *opts, size_t n, struct pd_arena *a, char **data,
		     struct pd_error *err)
{
	size_t total = 0;

	*data = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!is_data_option(opts[i]))
			continue;
		/* Bounded before adding, so the sum cannot overflow. */
		size_t len = strnlen(opts[i], PD_MOUNT_DATA_MAX + 1);
		total += (total ? 1 : 0) + len;
		if (total > PD_MOUNT_DATA_MAX)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "data options longer than %d bytes", PD_MOUNT_DATA_MAX);
	}
	if (total == 0)
		return 0;
	char *out = pd_arena_alloc(a, total + 1);
	if (!out)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
				    "out of memory for the mount data");
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_data_option(opts[i]))
			continue;
		if (used)
			out[used++] = ',';
		size_t len = strlen(opts[i]);
		memcpy(out + used, opts[i], len);
		used += len;
	}
	out[used] = '\0';
	*data = out;
	return 0;
}

int pd_mount_options_parse(char *const *opts, size_t n, struct pd_arena *a, unsigned long *flags,
			   unsigned long *propagation, char **data, bool *bind,
			   struct pd_error *err)
{
	*flags = 0;
	*propagation = 0;
	*bind = false;
	for (size_t i = 0; i < n; i++) {
		if (!opts[i])
			continue;
		const struct flag_option *f = find_flag_option(opts[i]);
		if (f) {
			if (f->clear)
				*flags &= ~f->flag;
			else
				*flags |= f->flag;
			if (f->flag & MS_BIND)
				*bind = true;
			continue;
		}
		pd_mount_propagation_from_name(opts[i], propagation);
	}
	return join_data(opts, n, a, data, err);
}
