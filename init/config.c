/* The agent's configuration from the kernel command line, read the way the Kata agent reads
 * it: tokens split on ASCII whitespace, flags match the whole token, options match "name=".
 * Unlike Kata (which aborts on a bad number) a bad value is logged and the default kept:
 * pid 1 must come up and answer, and a warning on the console explains the rest. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent/log.h"
#include "agent/ttrpc/address.h"
#include "agent/ttrpc/transport.h"

#define VALUE_MAX 256

void pd_config_defaults(struct pd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = PD_LOG_INFO;
	cfg->server_addr[0] = '\0'; /* choose: vsock if present, else the serial channel */
	cfg->hotplug_timeout_s = 3;
	cfg->container_pipe_size = 0;
	cfg->cgroup_v2 = false;
}

/* One "name[=value]" token of the command line. value is NULL for a bare flag; values are
 * copied (bounded) so that the parsers below work on C strings. */
struct token {
	const char *name;
	size_t name_len;
	const char *value; /* NUL-terminated copy, or NULL */
	bool value_too_long;
};

static bool token_is(const struct token *t, const char *name)
{
	return strlen(name) == t->name_len && memcmp(t->name, name, t->name_len) == 0;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "y", "t"};
	static const char *const no[] = {"false", "no", "off", "n", "f"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0)
			return *out = true, true;
		if (strcmp(s, no[i]) == 0)
			return *out = false, true;
	}
	/* Kata: an integer, non-zero = true ("agent.trace=1"). Any length of digits is fine
	 * here: only zero-or-not matters. */
	if (*s == '\0')
		return false;
	bool nonzero = false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		nonzero |= *p != '0';
	}
	*out = nonzero;
	return true;
}

/* Decimal digits only (no sign, no 0x, no trailing text), at most UINT32_MAX. */
static bool parse_u32(const char *s, unsigned *out)
{
	uint64_t v = 0;
	if (*s == '\0')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

static void warn_bad(const struct token *t, const char *why)
{
	pd_warn("bad kernel command line option, default kept",
		"option=%.*s value=\"%.64s\" reason=%s", (int)t->name_len, t->name,
		t->value ? t->value : "", why);
}

/* A boolean option: a bare flag means true. */
static void set_bool(const struct token *t, bool *field)
{
	bool v;
	if (!t->value) {
		*field = true;
		return;
	}
	if (!parse_bool(t->value, &v)) {
		warn_bad(t, "not a boolean");
		return;
	}
	*field = v;
}

/* min..max inclusive; a bare name has no value to parse. */
static void set_uint(const struct token *t, unsigned *field, unsigned min, unsigned max)
{
	unsigned v;
	if (!t->value || !parse_u32(t->value, &v)) {
		warn_bad(t, "not a number");
		return;
	}
	if (v < min || v > max) {
		warn_bad(t, "out of range");
		return;
	}
	*field = v;
}

static void set_log_level(const struct token *t, struct pd_config *cfg)
{
	int level = t->value ? pd_log_level_parse(t->value) : -1;
	if (level < 0) {
		warn_bad(t, "unknown log level");
		return;
	}
	cfg->log_level = level;
}

static void set_server_addr(const struct token *t, struct pd_config *cfg)
{
	struct pd_addr addrs[PD_MAX_SERVER_ADDRS];
	struct pd_error err;
	if (!t->value || t->value[0] == '\0') {
		warn_bad(t, "empty");
		return;
	}
	if (strlen(t->value) >= sizeof(cfg->server_addr)) {
		warn_bad(t, "too long");
		return;
	}
	if (pd_transport_parse_list(t->value, addrs, &err) < 0) {
		warn_bad(t, err.msg);
		return;
	}
	snprintf(cfg->server_addr, sizeof(cfg->server_addr), "%s", t->value);
}

/* cgroup selection is an OR of two options (as in Kata), so it is tracked apart and
 * folded into cfg->cgroup_v2 at the end. */
struct cgroup_choice {
	bool unified;	/* systemd.unified_cgroup_hierarchy */
	bool no_v1_all; /* cgroup_no_v1=all */
};

/* Returns false if the option is not one of ours. */
static bool apply_option(const struct token *t, struct pd_config *cfg, struct cgroup_choice *cg)
{
	if (token_is(t, "agent.log"))
		set_log_level(t, cfg);
	else if (token_is(t, "agent.server_addr"))
		set_server_addr(t, cfg);
	else if (token_is(t, "agent.debug_console"))
		set_bool(t, &cfg->debug_console);
	else if (token_is(t, "agent.debug_console_vport"))
		set_uint(t, &cfg->debug_console_vport, 0, UINT32_MAX);
	else if (token_is(t, "agent.log_vport"))
		set_uint(t, &cfg->log_vport, 0, UINT32_MAX);
	else if (token_is(t, "agent.unsafe_vsock_loopback_peers"))
		set_bool(t, &cfg->unsafe_vsock_loopback_peers);
	else if (token_is(t, "agent.devmode"))
		set_bool(t, &cfg->devmode);
	else if (token_is(t, "agent.trace"))
		set_bool(t, &cfg->trace);
	else if (token_is(t, "agent.hotplug_timeout"))
		set_uint(t, &cfg->hotplug_timeout_s, 1, 3600); /* Kata: 0 is ignored */
	else if (token_is(t, "agent.container_pipe_size"))
		set_uint(t, &cfg->container_pipe_size, 0, INT32_MAX); /* F_SETPIPE_SZ: an int */
	else if (token_is(t, "systemd.unified_cgroup_hierarchy"))
		set_bool(t, &cg->unified);
	else if (token_is(t, "cgroup_no_v1"))
		/* Only "all" frees every v1 controller; a partial list leaves v1 usable. The
		 * kernel adds up repeated cgroup_no_v1= options, so "all" stays. */
		cg->no_v1_all |= t->value && strcmp(t->value, "all") == 0;
	else
		return false;
	return true;
}

static void apply_token(const char *start, size_t len, struct pd_config *cfg,
			struct cgroup_choice *cg)
{
	char value[VALUE_MAX];
	const char *eq = memchr(start, '=', len);
	struct token t = {.name = start, .name_len = eq ? (size_t)(eq - start) : len};
	if (eq) {
		size_t vlen = len - t.name_len - 1;
		t.value_too_long = vlen >= sizeof(value);
		if (t.value_too_long)
			vlen = sizeof(value) - 1;
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
		t.value = value;
	}
	bool is_agent = t.name_len > 6 && memcmp(t.name, "agent.", 6) == 0;
	bool is_cgroup =
	    token_is(&t, "cgroup_no_v1") || token_is(&t, "systemd.unified_cgroup_hierarchy");
	if (t.value_too_long && (is_agent || is_cgroup)) {
		warn_bad(&t, "value too long");
		return;
	}
	if (!apply_option(&t, cfg, cg) && is_agent)
		pd_debug("kernel command line option not used", "option=%.*s", (int)t.name_len,
			 t.name);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void pd_config_parse_cmdline(struct pd_config *cfg, const char *cmdline)
{
	struct cgroup_choice cg = {.unified = cfg->cgroup_v2, .no_v1_all = false};
	const char *p = cmdline ? cmdline : "";
	for (;;) {
		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		const char *start = p;
		while (*p && !is_space(*p))
			p++;
		size_t len = (size_t)(p - start);
		/* The kernel hands everything after "--" to init as argv: not kernel options. */
		if (len == 2 && start[0] == '-' && start[1] == '-')
			break;
		apply_token(start, len, cfg, &cg);
	}
	cfg->cgroup_v2 = cg.unified || cg.no_v1_all;
}

static const char *yes_no(bool b)
{
	return b ? "true" : "false";
}

void pd_config_describe(const struct pd_config *cfg, char *buf, unsigned len)
{
	if (!buf || len == 0)
		return;
	snprintf(buf, len,
		 "log=%s server_addr=%s debug_console=%s debug_console_vport=%u log_vport=%u "
		 "devmode=%s trace=%s hotplug_timeout=%u container_pipe_size=%u cgroup=%s%s",
		 pd_log_level_name(cfg->log_level), cfg->server_addr[0] ? cfg->server_addr : "auto",
		 yes_no(cfg->debug_console), cfg->debug_console_vport, cfg->log_vport,
		 yes_no(cfg->devmode), yes_no(cfg->trace), cfg->hotplug_timeout_s,
		 cfg->container_pipe_size, cfg->cgroup_v2 ? "v2" : "v1",
		 cfg->unsafe_vsock_loopback_peers ? " unsafe_vsock_loopback_peers=true" : "");
}
