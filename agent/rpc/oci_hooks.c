/* Spec.Hooks -> the engine's hooks. See oci_hooks.h. */
#include "oci_hooks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/container/hooks.h"
#include "agent/container/validate.h"

static const char *const spec_names[PD_HOOK_KINDS] = {
    "Prestart", "CreateRuntime", "CreateContainer", "StartContainer", "Poststart", "Poststop"};

/* The proto's six lists in the order of enum pd_hook_kind. */
static void spec_hooks(const Grpc__Hooks *h, Grpc__Hook **lists[PD_HOOK_KINDS],
		       size_t n[PD_HOOK_KINDS])
{
	lists[PD_HOOK_PRESTART] = h->prestart;
	n[PD_HOOK_PRESTART] = h->n_prestart;
	lists[PD_HOOK_CREATE_RUNTIME] = h->createruntime;
	n[PD_HOOK_CREATE_RUNTIME] = h->n_createruntime;
	lists[PD_HOOK_CREATE_CONTAINER] = h->createcontainer;
	n[PD_HOOK_CREATE_CONTAINER] = h->n_createcontainer;
	lists[PD_HOOK_START_CONTAINER] = h->startcontainer;
	n[PD_HOOK_START_CONTAINER] = h->n_startcontainer;
	lists[PD_HOOK_POSTSTART] = h->poststart;
	n[PD_HOOK_POSTSTART] = h->n_poststart;
	lists[PD_HOOK_POSTSTOP] = h->poststop;
	n[PD_HOOK_POSTSTOP] = h->n_poststop;
}

static int check_env(char *const *env, size_t n, const char *what, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	for (size_t i = 0; i < n; i++) {
		const char *e = env[i] ? env[i] : "";
		const char *eq = strchr(e, '=');
		if (!eq || eq == e)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "%s.Env[%zu]: '%s' is not KEY=VALUE", what, i,
					    pd_shown(e, shown, sizeof(shown)));
	}
	return 0;
}

static int timeout_of(const Grpc__Hook *h, const char *what, struct pd_error *err)
{
	if (h->timeout < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s.Timeout: %lld is negative",
				    what, (long long)h->timeout);
	if (h->timeout == 0)
		return PD_HOOK_DEFAULT_TIMEOUT;
	if (h->timeout > PD_HOOK_MAX_TIMEOUT)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s.Timeout: %lld s is more than a day (%d s)", what,
				    (long long)h->timeout, PD_HOOK_MAX_TIMEOUT);
	return (int)h->timeout;
}

static int convert_hook(const Grpc__Hook *h, int kind, size_t i, struct pd_container_config *cfg,
			struct pd_error *err)
{
	char what[64];
	snprintf(what, sizeof(what), "Hooks.%s[%zu]", spec_names[kind], i);
	if (!h->path || !h->path[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s.Path is empty", what);
	if (pd_validate_abs_path(h->path, what, NULL, NULL, err) < 0)
		return -1;
	if (h->n_args > PD_HOOK_MAX_ARGS || h->n_env > PD_HOOK_MAX_ENV)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s: more than %d args or %d env entries", what,
				    PD_HOOK_MAX_ARGS, PD_HOOK_MAX_ENV);
	for (size_t j = 0; j < h->n_args; j++)
		if (!h->args[j])
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s.Args[%zu] is null",
					    what, j);
	int timeout = timeout_of(h, what, err);
	if (timeout < 0 || check_env(h->env, h->n_env, what, err) < 0)
		return -1;
	if (kind != PD_HOOK_START_CONTAINER && pd_hook_check_path("", h->path, what, err) < 0)
		return -1;
	if (pd_hooks_add(&cfg->arena, &cfg->hooks, kind, h->path, h->args, h->n_args, h->env,
			 h->n_env, timeout, err) < 0)
		return pd_error_wrap(err, "%s", what);
	return 0;
}

static int convert_hooks(const Grpc__Hooks *hooks, struct pd_container_config *cfg,
			 struct pd_error *err)
{
	Grpc__Hook **lists[PD_HOOK_KINDS];
	size_t n[PD_HOOK_KINDS];
	spec_hooks(hooks, lists, n);
	for (int k = 0; k < PD_HOOK_KINDS; k++) {
		if (n[k] > PD_HOOKS_MAX)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "Hooks.%s: %zu hooks, max %d", spec_names[k], n[k],
					    PD_HOOKS_MAX);
		for (size_t i = 0; i < n[k]; i++)
			if (lists[k][i] && convert_hook(lists[k][i], k, i, cfg, err) < 0)
				return -1;
	}
	return 0;
}

/* What the state document of a hook carries besides the config's own fields. */
static int keep_state_fields(const Grpc__Spec *spec, struct pd_container_config *cfg,
			     struct pd_error *err)
{
	struct pd_hooks *h = cfg->hooks;
	struct pd_arena *a = &cfg->arena;
	size_t n = spec->n_annotations;
	if (n > PD_HOOK_MAX_ANNOTATIONS)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "Annotations: %zu entries, max %d",
				    n, PD_HOOK_MAX_ANNOTATIONS);
	h->oci_version = pd_arena_strdup(a, spec->version ? spec->version : "");
	h->annotation_keys = pd_arena_calloc(a, n + 1, sizeof(char *));
	h->annotation_values = pd_arena_calloc(a, n + 1, sizeof(char *));
	if (!h->oci_version || !h->annotation_keys || !h->annotation_values)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
				    "Annotations: out of memory");
	for (size_t i = 0; i < n; i++) {
		const Grpc__Spec__AnnotationsEntry *e = spec->annotations[i];
		h->annotation_keys[i] = pd_arena_strdup(a, e->key ? e->key : "");
		h->annotation_values[i] = pd_arena_strdup(a, e->value ? e->value : "");
		if (!h->annotation_keys[i] || !h->annotation_values[i])
			return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
					    "Annotations: out of memory");
	}
	h->n_annotations = n;
	return 0;
}

int pd_oci_hooks_to_config(const Grpc__Spec *spec, const struct pd_hooks *guest,
			   struct pd_container_config *cfg, struct pd_error *err)
{
	cfg->hooks = NULL;
	if (spec->hooks && convert_hooks(spec->hooks, cfg, err) < 0)
		return -1;
	if (guest && pd_hooks_append(&cfg->arena, &cfg->hooks, guest, err) < 0)
		return pd_error_wrap(err, "guest hooks");
	return cfg->hooks ? keep_state_fields(spec, cfg, err) : 0;
}
