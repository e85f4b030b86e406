/* UpdateEphemeralMounts and RemoveStaleVirtiofsShareMounts: the sandbox's mounts after
 * the fact. */
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/container/resolve.h"
#include "agent/log.h"
#include "agent/sandbox/storage.h"
#include "init/mounts.h"

static int rpc_update_ephemeral_mounts(struct pd_call *call, const ProtobufCMessage *msg,
				       struct pd_error *err)
{
	const Grpc__UpdateEphemeralMountsRequest *req = (const void *)msg;
	struct pd_sandbox *sb = &pd_call_agent(call)->sandbox;
	if (req->n_storages > PD_MAX_STORAGES)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "too many storages");
	for (size_t i = 0; i < req->n_storages; i++) {
		const Grpc__Storage *s = req->storages[i];
		struct pd_storage_spec spec = {.driver = s->driver, .source = s->source,
					       .fstype = s->fstype, .mount_point = s->mount_point,
					       .options = s->options, .n_options = s->n_options};
		if (pd_storage_remount_ephemeral(sb, &spec, err) < 0)
			return pd_error_wrap(err, "storage %zu", i);
	}
	pd_call_reply(call, NULL);
	return 0;
}

/* A mount under the shared directory is stale when its container (the first path
 * component below it) no longer exists — virtio-fs bind mounts left by a container that
 * went away without RemoveContainer reaching us. */
static bool stale(struct pd_sandbox *sb, const char *mount_point)
{
	size_t n = strlen(PD_SHARED_DIR);
	if (strncmp(mount_point, PD_SHARED_DIR "/", n + 1) != 0)
		return false;
	char cid[PD_ID_MAX + 1];
	const char *start = mount_point + n + 1, *end = strchrnul(start, '/');
	if (end == start || (size_t)(end - start) > PD_ID_MAX)
		return false;
	snprintf(cid, sizeof(cid), "%.*s", (int)(end - start), start);
	return !pd_sandbox_find(sb, cid);
}

/* The shared directory is the host's to write: between reading mountinfo and unmounting,
 * a component of the path may have become a symlink to anywhere (/proc, another
 * container's rootfs). So the path is opened without following any symlink, and exactly
 * the mount that fd is the root of is unmounted. */
static bool umount_beneath(const char *mount_point)
{
	int fd = pd_open_nosymlinks(mount_point, 0);
	if (fd < 0)
		return false;
	bool done = pd_fd_is_mount_root(fd) && pd_umount_fd(fd, MNT_DETACH) == 0;
	close(fd);
	return done;
}

static int rpc_remove_stale_virtiofs_share_mounts(struct pd_call *call,
						  const ProtobufCMessage *msg,
						  struct pd_error *err)
{
	struct pd_sandbox *sb = &pd_call_agent(call)->sandbox;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return pd_error_errno(err, errno, "open /proc/self/mountinfo");
	char line[4096];
	unsigned removed = 0;
	/* Newest first would be ideal; MNT_DETACH makes the order harmless for nested mounts. */
	while (fgets(line, sizeof(line), f)) {
		struct pd_mountinfo_entry e;
		if (pd_mountinfo_parse_line(line, &e) == 0 && stale(sb, e.mount_point) &&
		    umount_beneath(e.mount_point))
			removed++;
	}
	fclose(f);
	pd_info("stale share mounts removed", "count=%u", removed);
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_shared_mounts[] = {
	{"UpdateEphemeralMounts", rpc_update_ephemeral_mounts},
	{"RemoveStaleVirtiofsShareMounts", rpc_remove_stale_virtiofs_share_mounts},
	{NULL, NULL},
};
