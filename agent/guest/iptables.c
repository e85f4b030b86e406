/* GetIPTables / SetIPTables: the host reads and replaces the guest's packet filter rules as
 * iptables-save text. We run the image's own iptables-save / iptables-restore (ip6tables-*
 * for IPv6); a guest image without them says so (FAILED_PRECONDITION) instead of failing to
 * exec. The programs run as children of the loop (runcmd.c), never blocking it. */
#include "guest.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const search_dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

static const char *tool_name(bool ipv6, bool restore)
{
	if (ipv6)
		return restore ? "ip6tables-restore" : "ip6tables-save";
	return restore ? "iptables-restore" : "iptables-save";
}

int pd_iptables_find(const char *root, bool ipv6, bool restore, char *path, size_t size,
		     struct pd_error *err)
{
	const char *name = tool_name(ipv6, restore);
	for (size_t i = 0; i < sizeof(search_dirs) / sizeof(search_dirs[0]); i++) {
		struct stat st;
		if (pd_kpath(path, size, err, root, "%s/%s", search_dirs[i], name) < 0)
			return -1;
		/* stat follows the xtables-*-multi symlinks Debian and Alpine install. */
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
			return 0;
	}
	return pd_error_set(err, PD_FAILED_PRECONDITION, 0, "%s is not in the guest image", name);
}

struct pd_runcmd *pd_iptables_start(struct pd_loop *loop, const char *root, bool ipv6,
				    bool restore, const void *in, size_t in_len,
				    pd_runcmd_done_fn done, void *data, struct pd_error *err)
{
	char path[PATH_MAX];
	if (pd_iptables_find(root, ipv6, restore, path, sizeof(path), err) < 0)
		return NULL;
	/* --wait: the xtables lock, should someone else hold it (as Kata: 5 s). */
	const char *save_argv[] = {path, NULL};
	const char *restore_argv[] = {path, "--wait", PD_IPTABLES_RESTORE_WAIT, NULL};
	struct pd_runcmd_spec spec = {
		.argv = restore ? restore_argv : save_argv,
		.in = restore ? in : NULL,
		.in_len = restore ? in_len : 0,
		.out_max = PD_IPTABLES_OUT_MAX,
		.timeout_ms = PD_IPTABLES_TIMEOUT_MS,
	};
	return pd_runcmd_start(loop, &spec, done, data, err);
}
