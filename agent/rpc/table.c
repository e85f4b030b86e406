#include "rpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "health.pb-c.h"

/* Every area whose handlers serve grpc.AgentService. */
static const struct pd_rpc_entry *const agent_areas[] = {
	pd_rpc_sandbox,
	pd_rpc_container,
	pd_rpc_process,
	pd_rpc_stream,
	pd_rpc_shared_mounts,
	pd_rpc_diagnostic,
	pd_rpc_guest,
	pd_rpc_network,
	pd_rpc_copyfile,
	pd_rpc_metrics,
	pd_rpc_policy,
	pd_rpc_cgroups,
};

static pd_rpc_fn find(const struct pd_rpc_entry *const *areas, size_t n_areas, const char *name)
{
	for (size_t a = 0; a < n_areas; a++)
		for (const struct pd_rpc_entry *e = areas[a]; e->method; e++)
			if (strcmp(e->method, name) == 0)
				return e->fn;
	return NULL;
}

static pd_rpc_fn *handlers_for(const ProtobufCServiceDescriptor *desc,
			       const struct pd_rpc_entry *const *areas, size_t n_areas)
{
	pd_rpc_fn *h = calloc(desc->n_methods, sizeof(*h));
	if (!h)
		return NULL;
	for (unsigned i = 0; i < desc->n_methods; i++)
		h[i] = find(areas, n_areas, desc->methods[i].name);
	return h;
}

int pd_rpc_services(struct pd_agent *agent, const struct pd_service **services, unsigned *n,
		    struct pd_error *err)
{
	static struct pd_service table[2];
	static const struct pd_rpc_entry *const health_areas[] = {pd_rpc_health};
	pd_rpc_fn *health = handlers_for(&grpc__health__descriptor, health_areas, 1);
	pd_rpc_fn *agentsvc = handlers_for(&grpc__agent_service__descriptor, agent_areas,
					   sizeof(agent_areas) / sizeof(agent_areas[0]));
	if (!health || !agentsvc) {
		free(health);
		free(agentsvc);
		return pd_error_errno(err, ENOMEM, "rpc table");
	}
	table[0] = (struct pd_service){&grpc__health__descriptor, health, agent};
	table[1] = (struct pd_service){&grpc__agent_service__descriptor, agentsvc, agent};
	*services = table;
	*n = 2;
	return 0;
}
