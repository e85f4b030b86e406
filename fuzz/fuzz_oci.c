/* libFuzzer target: the OCI spec on its way to a container config, as CreateContainer and
 * ExecProcess take it (agent/rpc/oci_spec.c and its friends: mount options, names, id maps,
 * sysctls, seccomp, hooks, resources, cgroup paths) — and as pidonectl reads it from a
 * bundle's config.json (agent/ctl/json_to_proto.c, bundle.c).
 *
 * Input: byte 0 picks the form, the rest is the document:
 *   0  a grpc.Spec (protobuf), as CreateContainer carries it;
 *   1  a config.json (JSON text), decoded into a grpc.Spec and given Kata's host-side
 *      changes (pd_ctl_spec_for_guest), then converted like 0;
 *   2  a grpc.Process (protobuf), as ExecProcess carries it;
 *   3  a grpc.LinuxResources (protobuf), as UpdateContainer carries it.
 * A spec that converts is then rendered into the container's state.json, which must parse
 * back with the same id and rootfs: what the agent writes, its readers can read. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/arena.h"
#include "agent/cgroup/cgroup.h"
#include "agent/container/idmap.h"
#include "agent/container/process.h"
#include "agent/container/state.h"
#include "agent/container/state_read.h"
#include "agent/container/sysctl.h"
#include "agent/ctl/bundle.h"
#include "agent/ctl/json_to_proto.h"
#include "agent/log.h"
#include "agent/rpc/oci_hooks.h"
#include "agent/rpc/oci_spec.h"
#include "agent/rpc/resources.h"
#include "agent.pb-c.h"
#include "common.h"
#include "oci.pb-c.h"

#define CID "fuzz-container"

static bool verbose; /* FUZZ_VERBOSE=1: say how far a spec got (reproducing a crash) */

void __wrap_pd_log(int level, const char *msg, const char *kv, ...)
{
}

__attribute__((noreturn)) static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_oci: %s: %s\n", what, detail);
	abort();
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). The
 * state writer puts U+FFFD for each byte that is not: only such text reads back unchanged. */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n = c < 0x80		      ? 0
				     : c >= 0xc2 && c <= 0xdf ? 1
				     : c >= 0xe0 && c <= 0xef ? 2
				     : c >= 0xf0 && c <= 0xf4 ? 3
							      : 4;
		if (n == 4)
			return false;
		unsigned cp = n == 0 ? c : c & (0x3f >> n);
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		s += n + 1;
	}
	return true;
}

/* state.json of the converted config, read back. */
static void state_round_trip(const struct pd_container_config *cfg)
{
	struct pd_state st = {
	    .id = CID, .init_pid = 42, .init_start = 7, .status = "created", .cfg = cfg};
	st.created.tv_sec = 1700000000;
	char *text;
	size_t len;
	struct pd_error err;
	if (pd_state_render(&st, &text, &len, &err) < 0)
		return; /* too large for a state file: refused, not written */
	struct pd_state_view v;
	if (pd_state_view_parse(text, len, &v, &err) < 0)
		fail("the state.json we wrote does not parse back", err.msg);
	if (strcmp(v.id, CID) != 0 || v.init_pid != 42 ||
	    (utf8_valid((const unsigned char *)cfg->rootfs) && strcmp(v.rootfs, cfg->rootfs) != 0))
		fail("state.json read back differs", v.rootfs);
	pd_state_view_free(&v);
	free(text);
}

static void resources(const Grpc__LinuxResources *r)
{
	struct pd_arena a;
	struct pd_resources res;
	struct pd_error err;
	pd_arena_init(&a, PD_CONFIG_BYTES);
	pd_rpc_resources_from_pb(r, &a, &res, &err);
	pd_arena_free(&a);
}

/* What CreateContainer does with the spec before it creates anything. */
static void convert_spec(const Grpc__Spec *spec)
{
	struct pd_container_config cfg;
	struct pd_error err;
	memset(&cfg, 0, sizeof(cfg));
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	pd_error_clear(&err);
	if (pd_oci_spec_to_config(spec, CID, &cfg, &err) == 0) {
		char path[PD_CGROUP_PATH_MAX + 1];
		if (pd_userns_check(&cfg, &err) == 0 && pd_sysctls_check(&cfg, &err) == 0 &&
		    pd_process_config_check(&cfg.process, &err) == 0 &&
		    pd_oci_hooks_to_config(spec, NULL, &cfg, &err) == 0)
			state_round_trip(&cfg);
		pd_cgroup_path_from_spec("parent", cfg.cgroups_path, CID, path, sizeof(path), &err);
	}
	if (verbose)
		fprintf(stderr, "fuzz_oci: spec: %s\n", err.code ? err.msg : "converted");
	resources(spec->linux_ ? spec->linux_->resources : NULL);
	pd_arena_free(&cfg.arena);
}

static void from_json(const uint8_t *data, size_t size)
{
	ProtobufCMessage *msg;
	struct pd_error err;
	if (pd_json_to_proto((const char *)data, size, &grpc__spec__descriptor, NULL, &msg, &err) <
	    0)
		return;
	Grpc__Spec *spec = (Grpc__Spec *)msg;
	bool pidns;
	if (pd_ctl_spec_for_guest(spec, "/run/kata-containers/shared/containers/" CID "/rootfs",
				  &pidns, &err) == 0)
		convert_spec(spec);
	protobuf_c_message_free_unpacked(msg, NULL);
}

static void exec_process(const Grpc__Process *p)
{
	struct pd_arena a;
	struct pd_process_config proc;
	struct pd_error err;
	pd_arena_init(&a, PD_CONFIG_BYTES);
	if (pd_oci_process_to_config(p, &a, &proc, &err) == 0)
		pd_process_config_check(&proc, &err);
	pd_arena_free(&a);
}

/* ---- seeds ------------------------------------------------------------------------------ */

static void seed_message(const char *dir, const char *name, int form, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		exit(1);
	protobuf_c_message_pack(m, buf);
	fz_seed_write(dir, name, form, buf, n);
	free(buf);
}

static void write_seeds(const char *dir)
{
	size_t len;
	const uint8_t *p =
	    fz_seed_file(PD_WIRE_DIR "/grpc.AgentService.CreateContainer.req.pb", &len);
	Grpc__CreateContainerRequest *cc = grpc__create_container_request__unpack(NULL, len, p);
	p = fz_seed_file(PD_WIRE_DIR "/grpc.AgentService.ExecProcess.req.pb", &len);
	Grpc__ExecProcessRequest *ep = grpc__exec_process_request__unpack(NULL, len, p);
	if (!cc || !cc->oci || !ep || !ep->process) {
		fprintf(stderr, "fuzz_oci: the wire vectors do not decode\n");
		exit(1);
	}
	seed_message(dir, "wire-spec", 0, &cc->oci->base);
	seed_message(dir, "wire-process", 2, &ep->process->base);
	grpc__create_container_request__free_unpacked(cc, NULL);
	grpc__exec_process_request__free_unpacked(ep, NULL);
	/* config.json as text, and as the spec it decodes to */
	unsigned n = fz_seed_files(dir, "config", 1);
	p = fz_seed_file("config.json", &len);
	ProtobufCMessage *msg;
	struct pd_error err;
	if (pd_json_to_proto((const char *)p, len, &grpc__spec__descriptor, NULL, &msg, &err) < 0) {
		fprintf(stderr, "fuzz_oci: config.json: %s\n", err.msg);
		exit(1);
	}
	Grpc__Spec *spec = (Grpc__Spec *)msg;
	free(spec->root->path); /* as the runtime sends it: absolute, in the guest */
	spec->root->path = strdup("/run/kata-containers/shared/containers/" CID "/rootfs");
	seed_message(dir, "config-spec", 0, msg);
	seed_message(dir, "config-process", 2, &spec->process->base);
	seed_message(dir, "config-resources", 3, &spec->linux_->resources->base);
	protobuf_c_message_free_unpacked(msg, NULL);
	fprintf(stderr, "fuzz_oci: %u seeds in %s\n", n + 5, dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (fz_seed_dir()) {
		write_seeds(fz_seed_dir());
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t form = data[0] % 4;
	data++;
	size--;
	if (form == 1) {
		from_json(data, size);
		return 0;
	}
	const ProtobufCMessageDescriptor *d = form == 0	  ? &grpc__spec__descriptor
					      : form == 2 ? &grpc__process__descriptor
							  : &grpc__linux_resources__descriptor;
	ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, size, data);
	if (!msg)
		return 0;
	if (form == 0)
		convert_spec((const Grpc__Spec *)msg);
	else if (form == 2)
		exec_process((const Grpc__Process *)msg);
	else
		resources((const Grpc__LinuxResources *)msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}
