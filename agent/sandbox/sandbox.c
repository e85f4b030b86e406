/* The sandbox: made by CreateSandbox, ended by DestroySandbox. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/sandbox/container.h"
#include "agent/sandbox/sandbox_ns.h"
#include "agent/sandbox/storage.h"
#include "init/mounts.h"

void pd_sandbox_init(struct pd_sandbox *sb, struct pd_loop *loop, unsigned pipe_size)
{
	memset(sb, 0, sizeof(*sb));
	sb->loop = loop;
	sb->pipe_size = pipe_size;
	sb->spawn_timeout_ms = 60000;
	pd_arena_init(&sb->guest_hooks_arena, PD_CONFIG_BYTES);
	pd_list_init(&sb->containers);
	pd_list_init(&sb->creating);
	pd_list_init(&sb->storages);
}

struct pd_container *pd_sandbox_find(struct pd_sandbox *sb, const char *id)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &sb->containers)
	{
		struct pd_container *c = pd_container_of(pos, struct pd_container, node);
		if (strcmp(c->id, id) == 0)
			return c;
	}
	return NULL;
}

struct pd_container *pd_sandbox_find_any(struct pd_sandbox *sb, const char *id)
{
	struct pd_container *c = pd_sandbox_find(sb, id);
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &sb->creating)
	if (!c && strcmp(pd_container_of(pos, struct pd_container, node)->id, id) == 0)
		c = pd_container_of(pos, struct pd_container, node);
	return c;
}

/* The host's DNS lines become the guest's /etc/resolv.conf (bound over the image's empty
 * file, which the image builder leaves there for this). */
int pd_sandbox_set_dns(char *const *lines, size_t n, struct pd_error *err)
{
	const char *path = PD_SANDBOX_DIR "/resolv.conf";
	if (n == 0)
		return 0;
	if (access("/etc/resolv.conf", F_OK) < 0)
		return 0;
	if (pd_mkdir_p(PD_SANDBOX_DIR, 0755, err) < 0)
		return -1;
	FILE *f = fopen(path, "we");
	if (!f)
		return pd_error_errno(err, errno, "create %s", path);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	if (fclose(f) != 0)
		return pd_error_errno(err, errno, "write %s", path);
	if (!pd_is_mount_point("/etc/resolv.conf", NULL) &&
	    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return pd_error_errno(err, errno, "bind %s on /etc/resolv.conf", path);
	return 0;
}

/* Remove every container, those still being created too: kill, then tear down without
 * waiting (the sandbox ends; calls still parked on them are failed). */
void pd_sandbox_destroy(struct pd_sandbox *sb)
{
	struct pd_list *lists[] = {&sb->creating, &sb->containers};
	for (int l = 0; l < 2; l++) {
		struct pd_list *pos, *tmp;
		pd_list_for_each_safe(pos, tmp, lists[l])
		pd_container_kill_all(pd_container_of(pos, struct pd_container, node));
		pd_list_for_each_safe(pos, tmp, lists[l])
		pd_container_destroy(pd_container_of(pos, struct pd_container, node));
	}
	pd_storage_release_all(sb);
	pd_pidns_holder_stop(&sb->pidns);
	if (sb->ns_pinned)
		pd_sandbox_ns_remove();
	sb->ns_pinned = false;
	sb->created = false;
	pd_arena_free(&sb->guest_hooks_arena);
	sb->guest_hooks = NULL;
}
