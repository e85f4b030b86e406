/* `pidonectl create-sandbox`: CreateSandbox as Kata's runtime sends it for one pod. */
#include "ctl.h"

#include <getopt.h>
#include <stdlib.h>

#include "agent.pb-c.h"
#include "storages.h"

struct sandbox_args {
	Grpc__CreateSandboxRequest req;
	char **dns;
	Grpc__Storage **storages;
};

static void sandbox_args_free(struct sandbox_args *s)
{
	for (size_t i = 0; i < s->req.n_storages; i++)
		protobuf_c_message_free_unpacked(&s->storages[i]->base, NULL);
	free(s->storages);
	free(s->dns);
}

static int storage_failed(const struct pd_error *err)
{
	return pd_ctl_fail(PD_EXIT_USAGE, err->code, "create-sandbox: %s", err->msg);
}

/* One option that adds a Storage. */
static int add_storage(struct sandbox_args *s, int opt, const char *arg)
{
	struct pd_error err = {0};
	Grpc__Storage **st = &s->storages[s->req.n_storages];
	unsigned long long bytes;
	int rc;
	if (opt == 's')
		rc = pd_ctl_parse_storage(arg, st, &err);
	else if (opt == '9' || opt == 'f')
		rc = pd_ctl_share_storage(opt == '9' ? "9p" : "virtio-fs", arg, st, &err);
	else if (pd_ctl_parse_uint(arg, 1ULL << 50, &bytes) < 0 || bytes == 0)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "create-sandbox: --shm-size wants a number of bytes, not '%s'", arg);
	else
		rc = pd_ctl_shm_storage(bytes, st, &err);
	if (rc < 0)
		return storage_failed(&err);
	s->req.n_storages++;
	return PD_EXIT_OK;
}

static int parse(struct sandbox_args *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"hostname", required_argument, NULL, 'H'},
		{"dns", required_argument, NULL, 'd'},
		{"storage", required_argument, NULL, 's'},
		{"share-9p", required_argument, NULL, '9'},
		{"share-virtiofs", required_argument, NULL, 'f'},
		{"shm-size", required_argument, NULL, 'm'},
		{"guest-hook-path", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	/* every option takes one word: argc bounds each list */
	s->dns = calloc((size_t)argc + 1, sizeof(*s->dns));
	s->storages = calloc((size_t)argc + 1, sizeof(*s->storages));
	if (!s->dns || !s->storages)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_RESOURCE_EXHAUSTED, "out of memory");
	s->req.dns = s->dns;
	s->req.storages = s->storages;
	pd_ctl_getopt_begin();
	int c, rc = PD_EXIT_OK;
	while (rc == PD_EXIT_OK && (c = pd_ctl_getopt(argc, argv, "+", opts)) != -1) {
		if (c == 'i')
			s->req.sandbox_id = optarg;
		else if (c == 'H')
			s->req.hostname = optarg;
		else if (c == 'd')
			s->dns[s->req.n_dns++] = optarg;
		else if (c == 'g')
			s->req.guest_hook_path = optarg;
		else if (c == 's' || c == '9' || c == 'f' || c == 'm')
			rc = add_storage(s, c, optarg);
		else
			rc = PD_EXIT_USAGE;
	}
	if (rc == PD_EXIT_OK && pd_ctl_optind() < argc)
		rc = pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				 "create-sandbox: unexpected argument '%s'", argv[pd_ctl_optind()]);
	return rc;
}

int pd_ctl_cmd_create_sandbox(struct pd_ctl *ctl, int argc, char **argv)
{
	struct sandbox_args s = {.req = GRPC__CREATE_SANDBOX_REQUEST__INIT};
	int rc = parse(&s, argc, argv);
	if (rc == PD_EXIT_OK)
		rc = pd_ctl_agent_call(ctl, "CreateSandbox", &s.req.base);
	sandbox_args_free(&s);
	return rc;
}
