/* libFuzzer target: the small decoders of outside input, one per selector so each stays in
 * its own files (fuzz/run.sh reports the edges covered per source file):
 *
 *   byte 0 % 7   what the rest of the input is
 *   0  policy    a policy document (agent/policy_parse.c, policy_field.c): SetPolicy's text
 *                or /etc/pidone/policy.json; a policy that loads is then asked about the
 *                Kata wire requests (the gate's field matching) and reset
 *   1  state     a state.json (agent/container/json_read.c, state_read.c), as `pidone list`
 *                and `pidone state` read it
 *   2  netlink   the kernel's rtnetlink answers (agent/net/): byte 1 picks the agent's
 *                operation (list interfaces, list routes, loopback up, update an interface,
 *                replace routes, add a neighbour), the rest are its datagrams
 *                {u16 length LE, u8 flags, bytes} (parsers_netlink.c)
 *   3  uevent    a kernel uevent record (agent/device/uevent.c), matched against the disks
 *                a call could wait for
 *   4  cmdline   the kernel command line (init/config.c)
 *   5  mountopts a mount's options, NUL-separated (agent/container/mountopts.c)
 *   6  text      byte 1 picks one of the kernel's small text files or the host's device
 *                names: cgroup statistics (flat keyed, numbers, v1 blkio, v2 io.stat), a
 *                mountinfo line, a modules list line, a CPU list, the memory block size,
 *                MAJOR:MINOR, a PCI path and a storage's source. */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>

#include "agent.pb-c.h"
#include "agent/arena.h"
#include "agent/cgroup/cgroup_internal.h"
#include "agent/container/mountopts.h"
#include "agent/container/state_read.h"
#include "agent/device/blockdev.h"
#include "agent/device/uevent.h"
#include "agent/guest/guest.h"
#include "agent/net/net.h"
#include "agent/policy.h"
#include "common.h"
#include "init/config.h"
#include "init/modules.h"
#include "init/mounts.h"
#include "parsers.h"

enum { POLICY, STATE, NETLINK, UEVENT, CMDLINE, MOUNTOPTS, TEXT, N_KINDS };

#define MAX_TEXT (1u << 20)

void __wrap_pd_log(int level, const char *msg, const char *kv, ...)
{
}

__attribute__((noreturn)) static void fail(const char *what)
{
	fprintf(stderr, "fuzz_parsers: %s\n", what);
	abort();
}

/* The input as a C string (the parsers of text take one). */
static char *text_of(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);
	if (!t)
		fail("out of memory");
	memcpy(t, data, size);
	t[size] = '\0';
	return t;
}

/* ---- policy ------------------------------------------------------------------------------- */

static const char *const wire_methods[] = {"CreateSandbox", "CreateContainer", "StartContainer",
					   "ReadStdout",    "WaitProcess",     "ExecProcess",
					   "SignalProcess", "RemoveContainer", "DestroySandbox"};
#define N_WIRE (sizeof(wire_methods) / sizeof(wire_methods[0]))
static ProtobufCMessage *wire_msgs[N_WIRE];

static void load_wire(void)
{
	for (size_t i = 0; i < N_WIRE; i++) {
		char path[4096];
		size_t len;
		snprintf(path, sizeof(path), "%s/grpc.AgentService.%s.req.pb", PD_WIRE_DIR,
			 wire_methods[i]);
		const uint8_t *p = fz_seed_file(path, &len);
		const ProtobufCMethodDescriptor *m =
		    protobuf_c_service_descriptor_get_method_by_name(
			&grpc__agent_service__descriptor, wire_methods[i]);
		wire_msgs[i] = m ? protobuf_c_message_unpack(m->input, NULL, len, p) : NULL;
		if (!wire_msgs[i])
			fail("a Kata wire vector does not decode");
	}
}

static void policy(const uint8_t *data, size_t size)
{
	struct pd_error err;
	if (pd_policy_set((const char *)data, size, &err) < 0) {
		if (pd_policy_rule_count() != 0)
			fail("a policy that did not load replaced the one in force");
		return;
	}
	for (size_t i = 0; i < N_WIRE; i++)
		pd_policy_check("grpc.AgentService", wire_methods[i], wire_msgs[i], &err);
	pd_policy_check("grpc.Health", "Check", wire_msgs[0], &err);
	pd_policy_reset();
}

/* ---- state.json ------------------------------------------------------------------------------ */

static void state(const uint8_t *data, size_t size)
{
	struct pd_state_view v;
	struct pd_error err;
	if (pd_state_view_parse((const char *)data, size, &v, &err) < 0)
		return;
	if (!v.id || !v.created || !v.status || !v.rootfs || !v.hostname)
		fail("a state view without a required field");
	if (v.has_status && (v.status_start > v.status_end || v.status_end > size))
		fail("the status span is outside the text");
	pd_state_view_free(&v);
}

/* ---- netlink --------------------------------------------------------------------------------- */

static void ip(const char *text, int family, struct pd_ip *out)
{
	struct pd_error err;
	if (pd_net_parse_prefix(text, family, out, &err) < 0)
		fail(err.msg);
}

static void net_update(void)
{
	struct pd_iface_update u = {.mtu = 65536};
	struct pd_ifaces now;
	struct pd_error err;
	snprintf(u.find, sizeof(u.find), "lo");
	u.addrs = calloc(2, sizeof(*u.addrs));
	if (!u.addrs)
		fail("out of memory");
	u.n_addrs = 2;
	if (pd_net_parse_ip_mask("127.0.0.1", "8", AF_INET, &u.addrs[0], &err) < 0 ||
	    pd_net_parse_ip_mask("::1", "128", AF_INET6, &u.addrs[1], &err) < 0)
		fail(err.msg);
	if (pd_iface_update(&u, &now, &err) == 0)
		pd_ifaces_free(&now);
	pd_iface_update_free(&u);
}

static void net_routes(void)
{
	struct pd_route want[2];
	struct pd_routes now;
	struct pd_error err;
	memset(want, 0, sizeof(want));
	want[0].family = AF_INET;
	ip("127.5.0.0/16", AF_INET, &want[0].dst);
	snprintf(want[0].dev, sizeof(want[0].dev), "lo");
	want[0].scope = 253; /* RT_SCOPE_HOST */
	want[1].family = AF_INET6;
	ip("fd00:5::/64", AF_INET6, &want[1].dst);
	snprintf(want[1].dev, sizeof(want[1].dev), "lo");
	if (pd_net_replace_routes(want, 2, &now, &err) == 0)
		pd_routes_free(&now);
}

static void net_neigh(void)
{
	struct pd_neigh n = {
	    .has_lladdr = true, .state = NUD_PERMANENT, .lladdr = {2, 0, 0, 0, 0, 1}};
	struct pd_error err;
	ip("127.0.0.9/32", AF_INET, &n.ip);
	snprintf(n.dev, sizeof(n.dev), "lo");
	pd_net_add_neighbors(&n, 1, &err);
}

#define NET_OPS 6
static void net_op(unsigned op)
{
	struct pd_error err;
	struct pd_ifaces ifs;
	struct pd_routes rs;
	switch (op % NET_OPS) {
	case 0:
		if (pd_iface_list(&ifs, &err) == 0)
			pd_ifaces_free(&ifs);
		break;
	case 1:
		if (pd_net_list_routes(&rs, &err) == 0)
			pd_routes_free(&rs);
		break;
	case 2:
		pd_net_loopback_up(&err);
		break;
	case 3:
		net_update();
		break;
	case 4:
		net_routes();
		break;
	default:
		net_neigh();
	}
}

static void netlink(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	fz_nl_feed(data + 1, size - 1);
	net_op(data[0]);
	fz_nl_feed(NULL, 0);
}

/* ---- uevents ----------------------------------------------------------------------------------
 */

static struct pd_blk_want wants[3];

static void load_wants(void)
{
	struct pd_error err;
	if (pd_blk_want_parse("blk", "02/01", &wants[0], &err) < 0 ||
	    pd_blk_want_parse("mmioblk", "/dev/vdc", &wants[1], &err) < 0 ||
	    pd_blk_want_parse("scsi", "0:1", &wants[2], &err) < 0)
		fail(err.msg);
}

static void uevent(const uint8_t *data, size_t size)
{
	struct pd_uevent ev;
	if (pd_uevent_parse((const char *)data, size, &ev) < 0)
		return;
	if (!memchr(ev.action, '\0', sizeof(ev.action)) ||
	    !memchr(ev.devpath, '\0', sizeof(ev.devpath)) ||
	    !memchr(ev.subsystem, '\0', sizeof(ev.subsystem)) ||
	    !memchr(ev.devname, '\0', sizeof(ev.devname)))
		fail("a uevent field without its NUL");
	for (size_t i = 0; i < 3; i++)
		pd_uevent_matches(&ev, &wants[i]);
}

/* ---- the kernel command line, mount options ------------------------------------------------ */

static void cmdline(const uint8_t *data, size_t size)
{
	char *t = text_of(data, size);
	struct pd_config cfg;
	char desc[1024];
	pd_config_defaults(&cfg);
	pd_config_parse_cmdline(&cfg, t);
	pd_config_describe(&cfg, desc, sizeof(desc));
	if (!memchr(desc, '\0', sizeof(desc)) ||
	    !memchr(cfg.server_addr, '\0', sizeof(cfg.server_addr)))
		fail("the configuration's text is not terminated");
	free(t);
}

#define MAX_OPTS 256
static void mountopts(const uint8_t *data, size_t size)
{
	char *t = text_of(data, size), *opts[MAX_OPTS];
	size_t n = 0;
	for (char *p = t; n < MAX_OPTS && p <= t + size; p += strlen(p) + 1)
		opts[n++] = p;
	struct pd_arena a;
	unsigned long flags = 0, prop = 0;
	char *mdata = NULL;
	bool bind = false;
	struct pd_error err;
	pd_arena_init(&a, 1 << 20);
	if (pd_mount_options_parse(opts, n, &a, &flags, &prop, &mdata, &bind, &err) == 0 && mdata &&
	    strlen(mdata) > PD_MOUNT_DATA_MAX)
		fail("mount data longer than mount(2) takes");
	for (size_t i = 0; i < n; i++)
		pd_mount_propagation_from_name(opts[i], &prop);
	pd_arena_free(&a);
	free(t);
}

/* ---- the kernel's small text files, the host's device names ------------------------------- */

#define TEXT_KINDS 10
static void text(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	unsigned kind = data[0] % TEXT_KINDS;
	char *t = text_of(data + 1, size - 1);
	struct pd_error err;
	struct pd_kv *kv = NULL;
	uint64_t *nums = NULL, v;
	struct pd_blkio_entry *b1 = NULL, *b2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct pd_mountinfo_entry me;
	struct pd_module_entry mod;
	unsigned count, major, minor;
	uint32_t slots[32];
	size_t n_slots;
	struct pd_blk_want w;
	static const char *const kinds[] = {"blk", "mmioblk", "scsi", "nvdimm"};
	switch (kind) {
	case 0:
		pd_cg_flat_all(t, &kv, &n1, &err);
		pd_cg_flat_get(t, "anon", &v);
		break;
	case 1:
		pd_cg_numbers(t, &nums, &n1, &err);
		break;
	case 2:
		pd_cg_blkio_v1_parse(t, &b1, &n1, &err);
		break;
	case 3:
		pd_cg_io_stat_parse(t, &b1, &n1, &b2, &n2, &err);
		break;
	case 4:
		pd_mountinfo_parse_line(t, &me);
		break;
	case 5:
		pd_modules_parse_line(t, &mod, &err);
		break;
	case 6:
		pd_cpu_list_count(t, &count, &err);
		break;
	case 7:
		pd_memory_block_size_parse(t, &v, &err);
		break;
	case 8:
		pd_blk_parse_devnum(t, &major, &minor);
		pd_pci_path_parse(t, slots, &n_slots, &err);
		break;
	default:
		pd_blk_want_parse(kinds[size % 4], t, &w, &err);
	}
	free(kv);
	free(nums);
	free(b1);
	free(b2);
	free(t);
}

/* ---- seeds ------------------------------------------------------------------------------------
 */

static void seed_text(const char *dir, const char *name, int kind, const char *s, size_t n)
{
	uint8_t buf[4096];
	buf[0] = (uint8_t)kind;
	if (n > sizeof(buf) - 1)
		fail("seed too large");
	memcpy(buf + 1, s, n);
	fz_seed_write(dir, name, TEXT, buf, n + 1);
}

#define SEED_TEXT(name, kind, lit) seed_text(dir, name, kind, lit, sizeof(lit) - 1)

static void text_seeds(const char *dir)
{
	SEED_TEXT("memory.stat", 0, "anon 4096\nfile 8192\nkernel 0\nsock 0\npgfault 12\n");
	SEED_TEXT("cpuacct.usage_percpu", 1, "1234 5678 0 99\n");
	SEED_TEXT("blkio", 2,
		  "8:0 Read 4096\n8:0 Write 0\n8:0 Sync 1\n8:0 Total 4097\nTotal 4097\n");
	SEED_TEXT("io.stat", 3,
		  "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n"
		  "254:16 rbytes=90 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
	SEED_TEXT("mountinfo", 4,
		  "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - "
		  "ext3 /dev/root rw,errors=continue\n");
	SEED_TEXT("modules", 5, "/lib/modules/6.1.0/kernel/fs/9p/9p.ko  debug=1 cache=loose\n");
	SEED_TEXT("cpulist", 6, "0-3,5,7-8\n");
	SEED_TEXT("block_size_bytes", 7, "8000000\n");
	SEED_TEXT("devnum", 8, "254:16\n");
	SEED_TEXT("pcipath", 8, "02/01/1f");
	SEED_TEXT("source-scsi", 9, "0:1");
	SEED_TEXT("source-name", 9, "/dev/vdb");
}

/* A kernel record: fields separated by NULs. */
static void seed_uevent(const char *dir, const char *name, const char *const *fields)
{
	uint8_t buf[2048];
	size_t o = 0;
	for (; *fields; fields++) {
		size_t n = strlen(*fields) + 1;
		if (o + n > sizeof(buf))
			fail("seed too large");
		memcpy(buf + o, *fields, n);
		o += n;
	}
	fz_seed_write(dir, name, UEVENT, buf, o);
}

static void uevent_seeds(const char *dir)
{
	static const char *const pci[] = {
	    "add@/devices/pci0000:00/0000:00:02.0/0000:01:01.0/virtio3/block/vdb",
	    "ACTION=add",
	    "DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:01:01.0/virtio3/block/vdb",
	    "SUBSYSTEM=block",
	    "MAJOR=254",
	    "MINOR=16",
	    "DEVNAME=vdb",
	    "DEVTYPE=disk",
	    "SEQNUM=1234",
	    NULL};
	static const char *const scsi[] = {
	    "add@/devices/pci0000:00/0000:00:05.0/virtio4/host0/target0:0:0/0:0:0:1/block/sda",
	    "ACTION=add",
	    "DEVPATH=/devices/pci0000:00/0000:00:05.0/virtio4/host0/target0:0:0/0:0:0:1/block/sda",
	    "SUBSYSTEM=block",
	    "MAJOR=8",
	    "MINOR=0",
	    "DEVNAME=sda",
	    NULL};
	static const char *const mmio[] = {
	    "add@/devices/platform/a003e00.virtio_mmio/virtio5/block/vdc",
	    "ACTION=add",
	    "DEVPATH=/devices/platform/a003e00.virtio_mmio/virtio5/block/vdc",
	    "SUBSYSTEM=block",
	    "MAJOR=254",
	    "MINOR=32",
	    "DEVNAME=vdc",
	    NULL};
	static const char *const udev[] = {"libudev", "ACTION=add", "DEVPATH=/x", "SUBSYSTEM=block",
					   NULL};
	seed_uevent(dir, "uevent-pci", pci);
	seed_uevent(dir, "uevent-scsi", scsi);
	seed_uevent(dir, "uevent-mmio", mmio);
	seed_uevent(dir, "uevent-udev", udev);
}

static void mountopt_seeds(const char *dir)
{
	static const char dev[] = "nosuid\0strictatime\0mode=755\0size=65536k";
	static const char pts[] = "nosuid\0noexec\0newinstance\0ptmxmode=0666\0mode=0620\0gid=5";
	static const char bind[] = "rbind\0rprivate\0ro\0nosymfollow\0context=\"a,b\"";
	fz_seed_write(dir, "mountopts-dev", MOUNTOPTS, dev, sizeof(dev) - 1);
	fz_seed_write(dir, "mountopts-pts", MOUNTOPTS, pts, sizeof(pts) - 1);
	fz_seed_write(dir, "mountopts-bind", MOUNTOPTS, bind, sizeof(bind) - 1);
}

/* Real kernel answers: each operation run against the kernel, in a network namespace of our
 * own when we may make one (the updates then change only its loopback). */
static void netlink_seeds(const char *dir)
{
	static uint8_t buf[1 << 16];
	bool own_ns = unshare(CLONE_NEWNET) == 0;
	for (unsigned op = 0; op < NET_OPS; op++) {
		if (op >= 2 && !own_ns)
			break; /* never change the host's network */
		buf[0] = (uint8_t)op;
		fz_nl_record(true, buf + 1, sizeof(buf) - 1);
		net_op(op);
		size_t n = fz_nl_recorded();
		fz_nl_record(false, NULL, 0);
		char name[64];
		snprintf(name, sizeof(name), "netlink-%u", op);
		fz_seed_write(dir, name, NETLINK, buf, 1 + n);
	}
}

static void write_seeds(const char *dir)
{
	unsigned n = fz_seed_files(dir, "policy", POLICY);
	n += fz_seed_files(dir, "state", STATE);
	n += fz_seed_files(dir, "cmdline", CMDLINE);
	fz_seed_write(dir, "cmdline-empty", CMDLINE, "", 0);
	text_seeds(dir);
	uevent_seeds(dir);
	mountopt_seeds(dir);
	netlink_seeds(dir);
	fprintf(stderr, "fuzz_parsers: %u seed files and built-in seeds in %s\n", n, dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	load_wire();
	load_wants();
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
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % N_KINDS) {
	case POLICY:
		policy(p, n);
		break;
	case STATE:
		state(p, n);
		break;
	case NETLINK:
		netlink(p, n);
		break;
	case UEVENT:
		uevent(p, n);
		break;
	case CMDLINE:
		cmdline(p, n);
		break;
	case MOUNTOPTS:
		mountopts(p, n);
		break;
	default:
		text(p, n);
	}
	return 0;
}
