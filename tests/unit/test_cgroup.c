/* The cgroup engine against fake trees (agent/cgroup/): path rules, detection, the v1/v2
 * value conversions, the statistics parsers on real-format text, the eBPF device program
 * generator (instruction by instruction, expected sequences worked out by hand below), and
 * the v1 backend on a fake v1 tree: what gets written where. The v2 backend's fake-tree
 * tests are in test_cgroup_v2.c; the real kernel in test_cgroup_v1_real.c and
 * test_cgroup_v2_real.c. */
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "agent/cgroup/cgroup_internal.h"
#include "cgroup_fake.h"

/* ---- paths ------------------------------------------------------------------------------ */

static void expect_path(const char *parent, const char *spec, const char *want)
{
	char out[PD_CGROUP_PATH_MAX + 1];
	struct pd_error err;
	int rc = pd_cgroup_path_from_spec(parent, spec, "c1", out, sizeof(out), &err);
	if (rc < 0)
		fail_msg("'%s' + '%s': %s", parent ? parent : "", spec ? spec : "", err.msg);
	assert_string_equal(out, want);
}

static void expect_bad_path(const char *parent, const char *spec)
{
	char out[PD_CGROUP_PATH_MAX + 1];
	struct pd_error err;
	assert_int_equal(pd_cgroup_path_from_spec(parent, spec, "c1", out, sizeof(out), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
}

static void test_path_rules(void **state)
{
	expect_path(NULL, NULL, "c1"); /* no CgroupsPath: "/<cid>" as Kata */
	expect_path(NULL, "", "c1");
	expect_path("", "", "c1");
	expect_path(NULL, "/kubepods/besteffort/pod1/c1", "kubepods/besteffort/pod1/c1");
	expect_path(NULL, "system.slice:docker:abc", "system.slice/docker/abc"); /* systemd */
	expect_path(NULL, "//a//b/", "a/b");
	expect_path(NULL, "a..b/.c", "a..b/.c"); /* dots inside names are names */
	expect_path("pidone-test-1", "", "pidone-test-1/c1");
	expect_path("/p/q/", "/x", "p/q/x");
	expect_bad_path(NULL, "../x");
	expect_bad_path(NULL, "/a/../../b");
	expect_bad_path(NULL, "a/./b");
	expect_bad_path(NULL, "a:..:b");
	expect_bad_path(NULL, "/"); /* the root cgroup */
	expect_bad_path(NULL, "::");
	expect_bad_path(NULL, "a\nb");
	expect_bad_path("..", "x");
	char long_path[PD_CGROUP_PATH_MAX + 10];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	expect_bad_path(NULL, long_path);
}

static void test_detect(void **state)
{
	char root[256];
	fk_tmpdir(root, sizeof(root));
	assert_int_equal(pd_cgroup_detect(root), PD_CGROUP_NONE);
	fk_mkdir("%s/systemd", root); /* a named hierarchy is not a controller */
	assert_int_equal(pd_cgroup_detect(root), PD_CGROUP_NONE);
	fk_mkdir("%s/pids", root);
	assert_int_equal(pd_cgroup_detect(root), PD_CGROUP_V1);
	fk_write(root, "cgroup.controllers", "memory pids\n");
	assert_int_equal(pd_cgroup_detect(root), PD_CGROUP_V2);
	assert_int_equal(pd_cgroup_detect("/nonexistent-pidone"), PD_CGROUP_NONE);
	fk_rm_rf(root);
}

static void test_create_refuses_bad_paths(void **state)
{
	char root[256];
	fk_tmpdir(root, sizeof(root));
	fk_mkdir("%s/pids", root);
	static const char *const bad[] = {"", "/abs", "a/../b", "..", "./a", "a//b", "a/"};
	struct pd_cgroup *cg;
	struct pd_error err;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pd_cgroup_create(root, bad[i], NULL, &cg, &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	}
	/* dots inside a name are a name */
	char d[512];
	snprintf(d, sizeof(d), "%s/pids/a..b/c", root);
	fk_write(d, "cgroup.procs", "");
	assert_int_equal(pd_cgroup_create(root, "a..b/c", NULL, &cg, &err), 0);
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

/* ---- conversions ------------------------------------------------------------------------ */

static void test_shares_to_weight(void **state)
{
	assert_int_equal(pd_cg_shares_to_weight(0), 0); /* not set */
	assert_int_equal(pd_cg_shares_to_weight(2), 1); /* the ends of the ranges meet */
	assert_int_equal(pd_cg_shares_to_weight(262144), 10000);
	assert_int_equal(pd_cg_shares_to_weight(1), 1); /* clamped to 2 */
	assert_int_equal(pd_cg_shares_to_weight(1000000), 10000);
	/* 1 + (1022 * 9999) / 262142 = 1 + 10218978 / 262142 = 1 + 38 */
	assert_int_equal(pd_cg_shares_to_weight(1024), 39);
	/* 1 + (99998 * 9999) / 262142 = 1 + 999880002 / 262142 = 1 + 3814 */
	assert_int_equal(pd_cg_shares_to_weight(100000), 3815);
}

static void test_blkio_weight(void **state)
{
	assert_int_equal(pd_cg_blkio_to_io_weight(0), 0);
	assert_int_equal(pd_cg_blkio_to_io_weight(10), 1);
	assert_int_equal(pd_cg_blkio_to_io_weight(1000), 10000);
	/* 1 + (490 * 9999) / 990 = 1 + 4899510 / 990 = 1 + 4949 */
	assert_int_equal(pd_cg_blkio_to_io_weight(500), 4950);
}

static void test_swap_math(void **state)
{
	struct pd_error err;
	int64_t v;
	assert_int_equal(pd_cg_swap_to_v2(300, 100, true, &v, &err), 0);
	assert_int_equal(v, 200); /* memsw 300 = memory 100 + swap 200 */
	assert_int_equal(pd_cg_swap_to_v2(100, 100, true, &v, &err), 0);
	assert_int_equal(v, 0); /* no swap at all: 0 = leave... */
	assert_int_equal(pd_cg_swap_to_v2(0, -1, true, &v, &err), 0);
	assert_int_equal(v, -1); /* memory unlimited, swap unsaid: both unlimited */
	assert_int_equal(pd_cg_swap_to_v2(-1, 100, true, &v, &err), 0);
	assert_int_equal(v, -1);
	assert_int_equal(pd_cg_swap_to_v2(0, 100, true, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pd_cg_swap_to_v2(50, 100, true, &v, &err), -1); /* below the limit */
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_cg_swap_to_v2(300, 0, false, &v, &err), -1); /* no limit to subtract */
	assert_int_equal(pd_cg_swap_to_v2(300, -1, true, &v, &err), -1);
	assert_int_equal(pd_cg_swap_to_v2(-5, 100, true, &v, &err), -1);
}

static void test_cpu_max(void **state)
{
	char buf[64];
	struct pd_resources r = {0};
	assert_false(pd_cg_cpu_max(&r, "", buf, sizeof(buf)));
	r.has_cpu_quota = r.has_cpu_period = true;
	r.cpu_quota = 50000;
	r.cpu_period = 100000;
	assert_true(pd_cg_cpu_max(&r, "", buf, sizeof(buf)));
	assert_string_equal(buf, "50000 100000");
	r.cpu_quota = -1;
	assert_true(pd_cg_cpu_max(&r, "", buf, sizeof(buf)));
	assert_string_equal(buf, "max 100000");
	r.has_cpu_period = false;
	assert_true(pd_cg_cpu_max(&r, "20000 100000\n", buf, sizeof(buf)));
	assert_string_equal(buf, "max"); /* the period stays as it is */
	r.has_cpu_quota = false;
	r.has_cpu_period = true;
	r.cpu_period = 50000;
	assert_true(pd_cg_cpu_max(&r, "20000 100000\n", buf, sizeof(buf)));
	assert_string_equal(buf, "20000 50000"); /* the quota that is set stays */
}

/* ---- stats parsers ---------------------------------------------------------------------- */

static const char memory_stat_v1[] = "cache 1155072\nrss 2342912\nrss_huge 0\nshmem 0\n"
				     "mapped_file 663552\nswap 0\npgfault 2937\n"
				     "hierarchical_memory_limit 33554432\ntotal_cache 1155072\n";

static void test_flat(void **state)
{
	uint64_t v = 7;
	assert_true(pd_cg_flat_get(memory_stat_v1, "cache", &v));
	assert_int_equal(v, 1155072);
	assert_true(pd_cg_flat_get(memory_stat_v1, "total_cache", &v));
	assert_int_equal(v, 1155072);
	assert_true(pd_cg_flat_get(memory_stat_v1, "rss", &v)); /* not rss_huge */
	assert_int_equal(v, 2342912);
	assert_false(pd_cg_flat_get(memory_stat_v1, "ache", &v));
	assert_false(pd_cg_flat_get(memory_stat_v1, "nope", &v));
	assert_true(pd_cg_flat_get("populated 1\nfrozen 0\n", "frozen", &v));
	assert_int_equal(v, 0);
	struct pd_kv *kv;
	size_t n;
	struct pd_error err;
	assert_int_equal(pd_cg_flat_all(memory_stat_v1, &kv, &n, &err), 0);
	assert_int_equal(n, 9);
	assert_string_equal(kv[0].key, "cache");
	assert_int_equal(kv[7].value, 33554432);
	assert_string_equal(kv[8].key, "total_cache");
	free(kv);
	assert_int_equal(pd_cg_flat_all("", &kv, &n, &err), 0);
	assert_int_equal(n, 0);
	free(kv);
}

static void test_numbers(void **state)
{
	uint64_t *a;
	size_t n;
	struct pd_error err;
	/* cpuacct.usage_percpu ends with a space before the newline */
	assert_int_equal(pd_cg_numbers("123456 789012 0 5 \n", &a, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(a[0], 123456);
	assert_int_equal(a[1], 789012);
	assert_int_equal(a[3], 5);
	free(a);
	assert_int_equal(pd_cg_numbers("\n", &a, &n, &err), 0);
	assert_int_equal(n, 0);
	free(a);
}

static void test_blkio_v1_parse(void **state)
{
	const char *bytes = "8:0 Read 1282048\n8:0 Write 2195456\n8:0 Sync 2195456\n"
			    "8:0 Async 1282048\n8:0 Discard 0\n8:0 Total 3477504\n"
			    "253:1 Read 10\nTotal 3477514\n";
	struct pd_blkio_entry *e = NULL;
	size_t n = 0;
	struct pd_error err;
	assert_int_equal(pd_cg_blkio_v1_parse(bytes, &e, &n, &err), 0);
	assert_int_equal(n, 7); /* the summary line is skipped */
	assert_int_equal(e[0].major, 8);
	assert_int_equal(e[0].minor, 0);
	assert_string_equal(e[0].op, "read");
	assert_int_equal(e[0].value, 1282048);
	assert_string_equal(e[5].op, "total");
	assert_int_equal(e[6].major, 253);
	assert_int_equal(e[6].minor, 1);
	/* blkio.sectors_recursive: no op; appended to what is there */
	assert_int_equal(pd_cg_blkio_v1_parse("8:0 6792\n8:16 8\n", &e, &n, &err), 0);
	assert_int_equal(n, 9);
	assert_string_equal(e[7].op, "");
	assert_int_equal(e[7].value, 6792);
	free(e);
	/* many entries: growth */
	char big[20000] = "";
	for (int i = 0; i < 500; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "8:%d Read %d\n", i, i);
	e = NULL;
	n = 0;
	assert_int_equal(pd_cg_blkio_v1_parse(big, &e, &n, &err), 0);
	assert_int_equal(n, 500);
	assert_int_equal(e[499].minor, 499);
	assert_int_equal(e[499].value, 499);
	free(e);
}

static void test_io_stat_parse(void **state)
{
	const char *text = "8:0 rbytes=1048576 wbytes=4096 rios=16 wios=1 dbytes=0 dios=0\n"
			   "253:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=3 dios=4 "
			   "cost.vrate=100\n";
	struct pd_blkio_entry *b = NULL, *o = NULL;
	size_t nb = 0, no = 0;
	struct pd_error err;
	assert_int_equal(pd_cg_io_stat_parse(text, &b, &nb, &o, &no, &err), 0);
	assert_int_equal(nb, 6);
	assert_int_equal(no, 6);
	assert_string_equal(b[0].op, "read");
	assert_int_equal(b[0].value, 1048576);
	assert_string_equal(b[1].op, "write");
	assert_int_equal(b[1].value, 4096);
	assert_string_equal(b[2].op, "discard");
	assert_int_equal(o[0].value, 16); /* rios */
	assert_int_equal(o[1].value, 1);  /* wios */
	assert_int_equal(b[3].major, 253);
	assert_int_equal(b[5].value, 3);
	assert_int_equal(o[5].value, 4);
	free(b);
	free(o);
}

/* ---- eBPF device programs --------------------------------------------------------------- */

#define R(allow, type, major, minor, acc) ((struct pd_device_rule){allow, type, major, minor, acc})
#define ANY				  PD_DEV_ANY

struct insn_want {
	uint8_t code, dst, src;
	int16_t off;
	int32_t imm;
};

/* The six instructions every program starts with. */
static const struct insn_want prologue[] = {
    {BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0},	  /* r2 = *(u32 *)(r1 + 0) */
    {BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff}, /* r2 &= 0xffff: type */
    {BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0},	  /* r3 = *(u32 *)(r1 + 0) */
    {BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16},	  /* r3 >>= 16: access */
    {BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0},	  /* r4 = major */
    {BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0},	  /* r5 = minor */
};

#define JNE_K(dst, imm, off)                                                                       \
	{                                                                                          \
		BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm                                        \
	}
#define JNE_X(dst, src, off)                                                                       \
	{                                                                                          \
		BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0                                        \
	}
#define JEQ_K(dst, imm, off)                                                                       \
	{                                                                                          \
		BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm                                        \
	}
#define MOV32_X(dst, src)                                                                          \
	{                                                                                          \
		BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0                                          \
	}
#define AND32_K(dst, imm)                                                                          \
	{                                                                                          \
		BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm                                          \
	}
#define RET(v)                                                                                     \
	{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, v},                                                 \
	{                                                                                          \
		BPF_JMP | BPF_EXIT, 0, 0, 0, 0                                                     \
	}

static void expect_program(const struct pd_device_rule *rules, size_t n_rules,
			   const struct insn_want *body, size_t n_body)
{
	struct bpf_insn *p;
	size_t n;
	struct pd_error err;
	assert_int_equal(pd_ebpf_devices_build(rules, n_rules, &p, &n, &err), 0);
	assert_int_equal(n, 6 + n_body);
	for (size_t i = 0; i < n; i++) {
		const struct insn_want *w = i < 6 ? &prologue[i] : &body[i - 6];
		if (p[i].code != w->code || p[i].dst_reg != w->dst || p[i].src_reg != w->src ||
		    p[i].off != w->off || p[i].imm != w->imm) {
			struct bpf_insn got = p[i];
			free(p);
			p = &got;
			fail_msg("insn %zu: got code %#x dst %u src %u off %d imm %d, want code "
				 "%#x dst %u src %u off %d imm %d",
				 i, got.code, got.dst_reg, got.src_reg, got.off, got.imm, w->code,
				 w->dst, w->src, w->off, w->imm);
		}
	}
	free(p);
}

static void test_ebpf_deny_all(void **state)
{
	/* "a *:* rwm" denied: no check at all, then nothing else can run. */
	const struct pd_device_rule rules[] = {R(false, 'a', ANY, ANY, "rwm")};
	const struct insn_want body[] = {RET(0)};
	expect_program(rules, 1, body, 2);
}

static void test_ebpf_one_device(void **state)
{
	/* Checked last rule first: the allow of c 1:3 rwm, then the deny-all.
	 * Block "c 1:3 rwm" = 3 checks + 2 = 5 instructions; a check at block index i jumps
	 * len - i - 1 forward to land on the next block: 4, 3, 2. */
	const struct pd_device_rule rules[] = {R(false, 'a', ANY, ANY, "rwm"),
					       R(true, 'c', 1, 3, "rwm")};
	const struct insn_want body[] = {
	    JNE_K(2, BPF_DEVCG_DEV_CHAR, 4), JNE_K(4, 1, 3), JNE_K(5, 3, 2), RET(1), RET(0),
	};
	expect_program(rules, 2, body, sizeof(body) / sizeof(body[0]));
}

static void test_ebpf_access_and_wildcards(void **state)
{
	/* allow b 8:* rw — type, access (3 insns), major; no minor: len 7.
	 * deny c *:* w — type, access with "some requested right denied": len 6.
	 * No wildcard rule: the program ends with the default deny. Order: the deny (last
	 * rule) is checked first. */
	const struct pd_device_rule rules[] = {R(true, 'b', 8, ANY, "rw"),
					       R(false, 'c', ANY, ANY, "w")};
	const struct insn_want body[] = {
	    /* deny c *:* w */
	    JNE_K(2, BPF_DEVCG_DEV_CHAR, 5),
	    MOV32_X(1, 3),
	    AND32_K(1, BPF_DEVCG_ACC_WRITE),
	    JEQ_K(1, 0, 2),
	    RET(0),
	    /* allow b 8:* rw */
	    JNE_K(2, BPF_DEVCG_DEV_BLOCK, 6),
	    MOV32_X(1, 3),
	    AND32_K(1, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE),
	    JNE_X(1, 3, 3),
	    JNE_K(4, 8, 2),
	    RET(1),
	    /* nothing matched */
	    RET(0),
	};
	expect_program(rules, 2, body, sizeof(body) / sizeof(body[0]));
}

static void test_ebpf_wildcard_ends(void **state)
{
	/* An allow-everything rule in the middle: the rules before it can never decide, so
	 * they are not emitted, nor is the final default. The deny of c 1:5 m checks all four
	 * things: 1 + 3 + 1 + 1 + 2 = 8 instructions; from index i the next block is
	 * 8 - i - 1 away: 7 (type), 4 (access, at index 3), 3 (major), 2 (minor). */
	const struct pd_device_rule rules[] = {
	    R(true, 'c', 1, 3, "rwm"), R(true, 'a', ANY, ANY, "rwm"), R(false, 'c', 1, 5, "m")};
	const struct insn_want body[] = {
	    JNE_K(2, BPF_DEVCG_DEV_CHAR, 7),
	    MOV32_X(1, 3),
	    AND32_K(1, BPF_DEVCG_ACC_MKNOD),
	    JEQ_K(1, 0, 4),
	    JNE_K(4, 1, 3),
	    JNE_K(5, 5, 2),
	    RET(0),
	    RET(1),
	};
	expect_program(rules, 3, body, sizeof(body) / sizeof(body[0]));
}

static void test_ebpf_type_only(void **state)
{
	/* "c *:* rwm" allowed: only the type is checked (len 3), then the default deny. */
	const struct pd_device_rule rules[] = {R(true, 'c', ANY, ANY, "rwm")};
	const struct insn_want body[] = {JNE_K(2, BPF_DEVCG_DEV_CHAR, 2), RET(1), RET(0)};
	expect_program(rules, 1, body, sizeof(body) / sizeof(body[0]));
}

static void test_device_rule_list(void **state)
{
	struct pd_device_rule own[] = {R(true, 'c', 4, ANY, "rw")}, *all;
	struct pd_resources res = {.has_devices = true, .devices = own, .n_devices = 1};
	size_t n;
	struct pd_error err;
	assert_int_equal(pd_cg_device_rules(&res, &all, &n, &err), 0);
	assert_int_equal(n, 2 + pd_cgroup_n_default_devices);
	char text[PD_DEVICE_RULE_TEXT_MAX];
	pd_device_rule_text(&all[0], text, sizeof(text));
	assert_string_equal(text, "a *:* rwm");
	assert_false(all[0].allow);
	pd_device_rule_text(&all[1], text, sizeof(text));
	assert_string_equal(text, "c 4:* rw");
	pd_device_rule_text(&all[2], text, sizeof(text));
	assert_string_equal(text, "c *:* m");
	pd_device_rule_text(&all[n - 1], text, sizeof(text));
	assert_string_equal(text, "c 10:200 rwm");
	free(all);
	/* no rules given: deny all + defaults */
	assert_int_equal(pd_cg_device_rules(NULL, &all, &n, &err), 0);
	assert_int_equal(n, 1 + pd_cgroup_n_default_devices);
	free(all);
	/* bad rules are refused */
	struct pd_device_rule bad[] = {R(true, 'x', 1, 1, "rwm"), R(true, 'c', -2, 1, "rwm"),
				       R(true, 'c', 1, 1, ""), R(true, 'c', 1, 1, "rwx")};
	for (size_t i = 0; i < 4; i++) {
		res.devices = &bad[i];
		assert_int_equal(pd_cg_device_rules(&res, &all, &n, &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	}
}

/* ---- v1 backend on a fake tree ---------------------------------------------------------- */

static const char *const v1_controllers[] = {"cpu",	"cpuacct", "cpuset",  "memory",
					     "devices", "freezer", "blkio",   "pids",
					     "hugetlb", "net_cls", "net_prio"};
#define N_V1 (sizeof(v1_controllers) / sizeof(v1_controllers[0]))

/* The files the kernel would have made in <root>/<ctl>/<path>. */
static void fake_v1_dir(const char *root, const char *path)
{
	char d[1024];
	for (size_t i = 0; i < N_V1; i++) {
		snprintf(d, sizeof(d), "%s/%s/%s", root, v1_controllers[i], path);
		fk_write(d, "cgroup.procs", "");
	}
#define AT(ctl) (snprintf(d, sizeof(d), "%s/%s/%s", root, ctl, path), d)
	fk_write(AT("memory"), "memory.limit_in_bytes", "9223372036854771712\n");
	fk_write(d, "memory.soft_limit_in_bytes", "9223372036854771712\n");
	fk_write(d, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
	fk_write(d, "memory.swappiness", "60\n");
	fk_write(d, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	fk_write(d, "cgroup.event_control", "");
	fk_write(AT("cpu"), "cpu.shares", "1024\n");
	fk_write(d, "cpu.cfs_period_us", "100000\n");
	fk_write(d, "cpu.cfs_quota_us", "-1\n");
	fk_write(d, "cpu.rt_period_us", "1000000\n");
	fk_write(d, "cpu.rt_runtime_us", "0\n");
	fk_write(AT("cpuset"), "cpuset.cpus", "\n");
	fk_write(d, "cpuset.mems", "\n");
	fk_write(AT("pids"), "pids.max", "max\n");
	fk_write(AT("hugetlb"), "hugetlb.2MB.limit_in_bytes", "9223372036854771712\n");
	fk_write(AT("blkio"), "blkio.weight", "100\n");
	fk_write(d, "blkio.weight_device", "");
	fk_write(d, "blkio.throttle.read_bps_device", "");
	fk_write(d, "blkio.throttle.write_iops_device", "");
	fk_write(AT("devices"), "devices.allow", "");
	fk_write(d, "devices.deny", "");
	fk_write(AT("freezer"), "freezer.state", "THAWED\n");
	fk_write(AT("net_cls"), "net_cls.classid", "0\n");
	fk_write(AT("net_prio"), "net_prio.ifpriomap", "");
#undef AT
}

static void fake_v1_root(char *root, size_t size)
{
	fk_tmpdir(root, size);
	for (size_t i = 0; i < N_V1; i++)
		fk_mkdir("%s/%s", root, v1_controllers[i]);
	char d[1024];
	snprintf(d, sizeof(d), "%s/cpuset", root);
	fk_write(d, "cpuset.cpus", "0-3\n");
	fk_write(d, "cpuset.mems", "0\n");
	fake_v1_dir(root, "pod");
	fake_v1_dir(root, "pod/c1");
}

static const char *at(const char *root, const char *ctl, const char *path, const char *file)
{
	char d[1024];
	snprintf(d, sizeof(d), "%s/%s/%s", root, ctl, path);
	return fk_read(d, file);
}

static const char default_allows[] = "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\n"
				     "c 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:1 rwm\nc 5:2 rwm\n"
				     "c 136:* rwm\nc 10:200 rwm\n";

static void test_v1_create_apply(void **state)
{
	char root[256];
	fake_v1_root(root, sizeof(root));
	static const struct pd_device_rule rules[] = {R(false, 'c', 1, 3, "w"),
						      R(true, 'b', 8, ANY, "rw")};
	static const struct pd_blkio_weight_dev wdev[] = {{8, 0, 300, 0}};
	static const struct pd_blkio_throttle_dev rbps[] = {{8, 0, 1048576}};
	static const struct pd_blkio_throttle_dev wiops[] = {{8, 16, 100}};
	static const struct pd_hugetlb_limit huge[] = {{"2MB", 4194304}};
	static const struct pd_net_prio prios[] = {{"eth0", 5}};
	struct pd_resources res = {
	    .has_mem_limit = true,
	    .mem_limit = 104857600,
	    .has_mem_swap = true,
	    .mem_swap = 209715200,
	    .has_mem_reservation = true,
	    .mem_reservation = 52428800,
	    .has_swappiness = true,
	    .swappiness = 10,
	    .disable_oom_killer = true,
	    .has_cpu_shares = true,
	    .cpu_shares = 512,
	    .has_cpu_quota = true,
	    .cpu_quota = 50000,
	    .has_cpu_period = true,
	    .cpu_period = 100000,
	    .has_rt_period = true,
	    .rt_period = 1000000,
	    .has_rt_runtime = true,
	    .rt_runtime = 950000,
	    .cpuset_cpus = "1",
	    .cpuset_mems = "0",
	    .has_pids_limit = true,
	    .pids_limit = 10,
	    .has_blkio_weight = true,
	    .blkio_weight = 500,
	    .weight_devs = wdev,
	    .n_weight_devs = 1,
	    .hugetlb = huge,
	    .n_hugetlb = 1,
	    .has_net_classid = true,
	    .net_classid = 0x100001,
	    .net_prios = prios,
	    .n_net_prios = 1,
	    .has_devices = true,
	    .devices = rules,
	    .n_devices = 2,
	};
	res.throttle[PD_THROTTLE_READ_BPS] = rbps;
	res.n_throttle[PD_THROTTLE_READ_BPS] = 1;
	res.throttle[PD_THROTTLE_WRITE_IOPS] = wiops;
	res.n_throttle[PD_THROTTLE_WRITE_IOPS] = 1;
	struct pd_cgroup *cg;
	struct pd_error err;
	if (pd_cgroup_create(root, "pod/c1", &res, &cg, &err) < 0)
		fail_msg("create: %s", err.msg);
	assert_int_equal(pd_cgroup_version(cg), PD_CGROUP_V1);
	assert_int_equal(pd_cgroup_dirfd(cg), -1);
	assert_string_equal(at(root, "memory", "pod/c1", "memory.limit_in_bytes"), "104857600");
	assert_string_equal(at(root, "memory", "pod/c1", "memory.memsw.limit_in_bytes"),
			    "209715200");
	assert_string_equal(at(root, "memory", "pod/c1", "memory.soft_limit_in_bytes"), "52428800");
	assert_string_equal(at(root, "memory", "pod/c1", "memory.swappiness"), "10");
	assert_string_equal(at(root, "memory", "pod/c1", "memory.oom_control"), "1");
	assert_string_equal(at(root, "cpu", "pod/c1", "cpu.shares"), "512");
	assert_string_equal(at(root, "cpu", "pod/c1", "cpu.cfs_period_us"), "100000");
	assert_string_equal(at(root, "cpu", "pod/c1", "cpu.cfs_quota_us"), "50000");
	assert_string_equal(at(root, "cpu", "pod/c1", "cpu.rt_period_us"), "1000000");
	assert_string_equal(at(root, "cpu", "pod/c1", "cpu.rt_runtime_us"), "950000");
	/* the empty cpusets of pod and pod/c1 got the root's values, then the spec's */
	assert_string_equal(at(root, "cpuset", "pod", "cpuset.cpus"), "0-3");
	assert_string_equal(at(root, "cpuset", "pod", "cpuset.mems"), "0");
	assert_string_equal(at(root, "cpuset", "pod/c1", "cpuset.cpus"), "1");
	assert_string_equal(at(root, "cpuset", "pod/c1", "cpuset.mems"), "0");
	assert_string_equal(at(root, "pids", "pod/c1", "pids.max"), "10");
	assert_string_equal(at(root, "hugetlb", "pod/c1", "hugetlb.2MB.limit_in_bytes"), "4194304");
	assert_string_equal(at(root, "blkio", "pod/c1", "blkio.weight"), "500");
	assert_string_equal(at(root, "blkio", "pod/c1", "blkio.weight_device"), "8:0 300\n");
	assert_string_equal(at(root, "blkio", "pod/c1", "blkio.throttle.read_bps_device"),
			    "8:0 1048576\n");
	assert_string_equal(at(root, "blkio", "pod/c1", "blkio.throttle.write_iops_device"),
			    "8:16 100\n");
	assert_string_equal(at(root, "net_cls", "pod/c1", "net_cls.classid"), "1048577");
	assert_string_equal(at(root, "net_prio", "pod/c1", "net_prio.ifpriomap"), "eth0 5\n");
	/* devices: deny everything, the spec's rules in order, the defaults */
	assert_string_equal(at(root, "devices", "pod/c1", "devices.deny"), "a\nc 1:3 w\n");
	char allow[1024];
	snprintf(allow, sizeof(allow), "b 8:* rw\n%s", default_allows);
	assert_string_equal(at(root, "devices", "pod/c1", "devices.allow"), allow);

	/* every hierarchy, by name, for state.json */
	const char *names[PD_CG_MAX_HIER], *paths[PD_CG_MAX_HIER];
	size_t n = pd_cgroup_paths(cg, names, paths, PD_CG_MAX_HIER);
	assert_int_equal(n, N_V1);
	for (size_t i = 0; i < n; i++) {
		char want[1024];
		snprintf(want, sizeof(want), "%s/%s/pod/c1", root, names[i]);
		assert_string_equal(paths[i], want);
	}
	assert_int_equal(pd_cgroup_paths(cg, names, paths, 2), N_V1); /* fills 2, says all */

	/* enter: the pid in every hierarchy */
	assert_int_equal(pd_cgroup_enter(cg, 4242, &err), 0);
	for (size_t i = 0; i < N_V1; i++)
		assert_string_equal(at(root, v1_controllers[i], "pod/c1", "cgroup.procs"),
				    "4242\n");
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

static void test_v1_update(void **state)
{
	char root[256];
	fake_v1_root(root, sizeof(root));
	struct pd_cgroup *cg;
	struct pd_error err;
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &cg, &err), 0);
	/* create without resources: only the device rules, nothing else touched */
	assert_string_equal(at(root, "devices", "pod/c1", "devices.deny"), "a\n");
	assert_string_equal(at(root, "devices", "pod/c1", "devices.allow"), default_allows);
	assert_string_equal(at(root, "memory", "pod/c1", "memory.limit_in_bytes"),
			    "9223372036854771712\n");
	/* an update writes what it sets; devices stay when it has none */
	struct pd_resources up = {
	    .has_pids_limit = true, .pids_limit = -1, .has_mem_limit = true, .mem_limit = -1};
	assert_int_equal(pd_cgroup_update(cg, &up, &err), 0);
	assert_string_equal(at(root, "pids", "pod/c1", "pids.max"), "max");
	assert_string_equal(at(root, "memory", "pod/c1", "memory.limit_in_bytes"), "-1");
	/* memory unlimited and swap unsaid: swap unlimited too */
	assert_string_equal(at(root, "memory", "pod/c1", "memory.memsw.limit_in_bytes"), "-1");
	assert_string_equal(at(root, "cpu", "pod/c1", "cpu.shares"), "1024\n");
	assert_string_equal(at(root, "devices", "pod/c1", "devices.deny"), "a\n");
	/* with device rules: start over */
	struct pd_device_rule r[] = {R(true, 'c', 1, 11, "r")};
	struct pd_resources dev = {.has_devices = true, .devices = r, .n_devices = 1};
	assert_int_equal(pd_cgroup_update(cg, &dev, &err), 0);
	assert_string_equal(at(root, "devices", "pod/c1", "devices.deny"), "a\na\n");
	/* swappiness out of range is refused */
	struct pd_resources bad = {.has_swappiness = true, .swappiness = 101};
	assert_int_equal(pd_cgroup_update(cg, &bad, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

/* OnlineCPUMem: v1 does not widen a child cpuset on hotplug; every level from the top gets
 * the root's list, then a pinned container its pin again. */
static void test_v1_cpuset_online(void **state)
{
	char root[256], d[512];
	fake_v1_root(root, sizeof(root));
	fake_v1_dir(root, "pod/c2");
	struct pd_cgroup *c1, *c2;
	struct pd_error err;
	struct pd_resources pin = {.cpuset_cpus = "1"};
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &c1, &err), 0);
	assert_int_equal(pd_cgroup_create(root, "pod/c2", &pin, &c2, &err), 0);
	assert_string_equal(at(root, "cpuset", "pod/c1", "cpuset.cpus"), "0-3");
	assert_string_equal(at(root, "cpuset", "pod/c2", "cpuset.cpus"), "1");
	/* two CPUs came online: the kernel widened the root only */
	snprintf(d, sizeof(d), "%s/cpuset", root);
	fk_write(d, "cpuset.cpus", "0-5\n");
	assert_int_equal(pd_cgroup_cpuset_online(c1, &err), 0);
	assert_string_equal(at(root, "cpuset", "pod", "cpuset.cpus"), "0-5");
	assert_string_equal(at(root, "cpuset", "pod/c1", "cpuset.cpus"), "0-5");
	assert_int_equal(pd_cgroup_cpuset_online(c2, &err), 0);
	assert_string_equal(at(root, "cpuset", "pod/c2", "cpuset.cpus"), "1");
	/* a pin set by UpdateContainer is the one kept */
	struct pd_resources pin2 = {.cpuset_cpus = "2-3"};
	assert_int_equal(pd_cgroup_update(c1, &pin2, &err), 0);
	fk_write(d, "cpuset.cpus", "0-6\n");
	assert_int_equal(pd_cgroup_cpuset_online(c1, &err), 0);
	assert_string_equal(at(root, "cpuset", "pod", "cpuset.cpus"), "0-6");
	assert_string_equal(at(root, "cpuset", "pod/c1", "cpuset.cpus"), "2-3");
	/* a level that cannot be written is an error naming the cgroup */
	snprintf(d, sizeof(d), "%s/cpuset/pod/c2/cpuset.cpus", root);
	assert_int_equal(unlink(d), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(pd_cgroup_cpuset_online(c2, &err), -1);
	assert_non_null(strstr(err.msg, "pod/c2"));
	pd_cgroup_free(c1);
	pd_cgroup_free(c2);
	fk_rm_rf(root);
}

static void test_v1_missing_controller(void **state)
{
	char root[256];
	fk_tmpdir(root, sizeof(root));
	fk_mkdir("%s/memory", root);
	fk_mkdir("%s/devices/c1", root);
	fk_write(root, "devices/c1/devices.allow", "");
	fk_write(root, "devices/c1/devices.deny", "");
	struct pd_resources res = {.has_pids_limit = true, .pids_limit = 5};
	struct pd_cgroup *cg;
	struct pd_error err;
	/* a limit for a controller that is not mounted is refused, not dropped */
	assert_int_equal(pd_cgroup_create(root, "c1", &res, &cg, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "pids"));
	/* and what create made is gone again; what was there stays */
	char d[512];
	snprintf(d, sizeof(d), "%s/memory/c1", root);
	assert_false(fk_exists(d));
	snprintf(d, sizeof(d), "%s/devices/c1", root);
	assert_true(fk_exists(d));
	/* no freezer: pause is impossible */
	assert_int_equal(pd_cgroup_create(root, "c1", NULL, &cg, &err), 0);
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_int_equal(pd_cgroup_oom_fd(cg, &err), -1); /* memory has no oom_control here */
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

static void test_v1_rollback(void **state)
{
	char root[256];
	fake_v1_root(root, sizeof(root));
	struct pd_cgroup *cg;
	struct pd_error err;
	/* "new" does not exist: mkdir makes new and new/c2 in every hierarchy, then the
	 * cpuset of the new directory cannot be read (a fake tree has no kernel to fill
	 * it): everything made is removed again. */
	assert_int_equal(pd_cgroup_create(root, "new/c2", NULL, &cg, &err), -1);
	for (size_t i = 0; i < N_V1; i++) {
		char d[512];
		snprintf(d, sizeof(d), "%s/%s/new", root, v1_controllers[i]);
		assert_false(fk_exists(d));
	}
	fk_rm_rf(root);
}

static void test_v1_freeze(void **state)
{
	char root[256];
	fake_v1_root(root, sizeof(root));
	struct pd_cgroup *cg;
	struct pd_error err;
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &cg, &err), 0);
	assert_false(pd_cgroup_is_frozen(cg));
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), 0);
	assert_string_equal(at(root, "freezer", "pod/c1", "freezer.state"), "FROZEN");
	assert_true(pd_cgroup_is_frozen(cg));
	assert_int_equal(pd_cgroup_freeze(cg, false, &err), 0);
	assert_string_equal(at(root, "freezer", "pod/c1", "freezer.state"), "THAWED");
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

static pid_t sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void test_v1_kill_all(void **state)
{
	char root[256], procs[64];
	fake_v1_root(root, sizeof(root));
	struct pd_cgroup *cg;
	struct pd_error err;
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &cg, &err), 0);
	pid_t a = sleeper(), b = sleeper();
	/* our own pid in the list is never killed */
	snprintf(procs, sizeof(procs), "%d\n%d\n%d\n", (int)a, (int)getpid(), (int)b);
	char d[512];
	snprintf(d, sizeof(d), "%s/freezer/pod/c1", root);
	fk_write(d, "cgroup.procs", procs);
	assert_false(pd_cgroup_is_empty(cg));
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 2);
	int st;
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* frozen for the kill, thawed after */
	assert_string_equal(at(root, "freezer", "pod/c1", "freezer.state"), "THAWED");
	fk_write(d, "cgroup.procs", "\n");
	assert_true(pd_cgroup_is_empty(cg));
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

static void test_v1_stats(void **state)
{
	char root[256], d[512];
	fake_v1_root(root, sizeof(root));
	snprintf(d, sizeof(d), "%s/cpuacct/pod/c1", root);
	fk_write(d, "cpuacct.usage", "5000000000\n");
	fk_write(d, "cpuacct.usage_percpu", "3000000000 2000000000 \n");
	fk_write(d, "cpuacct.stat", "user 150\nsystem 70\n");
	snprintf(d, sizeof(d), "%s/cpu/pod/c1", root);
	fk_write(d, "cpu.stat",
		 "nr_periods 10\nnr_throttled 2\nthrottled_time 3000000\n"
		 "nr_bursts 0\nburst_time 0\n");
	snprintf(d, sizeof(d), "%s/memory/pod/c1", root);
	fk_write(d, "memory.usage_in_bytes", "3497984\n");
	fk_write(d, "memory.max_usage_in_bytes", "4000000\n");
	fk_write(d, "memory.failcnt", "3\n");
	fk_write(d, "memory.limit_in_bytes", "33554432\n");
	fk_write(d, "memory.memsw.usage_in_bytes", "3500000\n");
	fk_write(d, "memory.memsw.max_usage_in_bytes", "4100000\n");
	fk_write(d, "memory.memsw.failcnt", "0\n");
	fk_write(d, "memory.kmem.usage_in_bytes", "65536\n");
	fk_write(d, "memory.use_hierarchy", "1\n");
	fk_write(d, "memory.stat", memory_stat_v1);
	snprintf(d, sizeof(d), "%s/pids/pod/c1", root);
	fk_write(d, "pids.current", "3\n");
	snprintf(d, sizeof(d), "%s/blkio/pod/c1", root);
	fk_write(d, "blkio.io_serviced_recursive", "Total 0\n"); /* no CFQ: throttle stats */
	fk_write(d, "blkio.throttle.io_service_bytes_recursive",
		 "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n");
	fk_write(d, "blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
	snprintf(d, sizeof(d), "%s/hugetlb/pod/c1", root);
	fk_write(d, "hugetlb.2MB.usage_in_bytes", "2097152\n");
	fk_write(d, "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
	fk_write(d, "hugetlb.2MB.failcnt", "1\n");
	fk_write(d, "hugetlb.2MB.rsvd.usage_in_bytes", "0\n"); /* another counter, not a size */
	fk_write(d, "hugetlb.1GB.usage_in_bytes", "0\n");

	struct pd_cgroup *cg;
	struct pd_error err;
	struct pd_cgroup_stats st;
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &cg, &err), 0);
	assert_int_equal(pd_cgroup_stats(cg, &st, &err), 0);
	long hz = sysconf(_SC_CLK_TCK);
	assert_int_equal(st.cpu.total, 5000000000ull);
	assert_int_equal(st.cpu.n_percpu, 2);
	assert_int_equal(st.cpu.percpu[1], 2000000000ull);
	assert_int_equal(st.cpu.user, 150 * (1000000000ull / (uint64_t)hz));
	assert_int_equal(st.cpu.kernel, 70 * (1000000000ull / (uint64_t)hz));
	assert_int_equal(st.cpu.periods, 10);
	assert_int_equal(st.cpu.throttled_periods, 2);
	assert_int_equal(st.cpu.throttled_time, 3000000);
	assert_int_equal(st.memory.usage.usage, 3497984);
	assert_int_equal(st.memory.usage.max_usage, 4000000);
	assert_int_equal(st.memory.usage.failcnt, 3);
	assert_int_equal(st.memory.usage.limit, 33554432);
	assert_int_equal(st.memory.swap.usage, 3500000);
	assert_int_equal(st.memory.swap.limit, 9223372036854771712ull);
	assert_int_equal(st.memory.kernel.usage, 65536);
	assert_true(st.memory.use_hierarchy);
	assert_int_equal(st.memory.cache, 1155072);
	assert_int_equal(st.memory.n_stats, 9);
	assert_int_equal(st.pids.current, 3);
	assert_int_equal(st.pids.limit, 0); /* "max" reads as 0, as Kata reports it */
	assert_int_equal(st.n_blkio[PD_BLKIO_SERVICE_BYTES], 3);
	assert_string_equal(st.blkio[PD_BLKIO_SERVICE_BYTES][1].op, "write");
	assert_int_equal(st.blkio[PD_BLKIO_SERVICE_BYTES][1].value, 8192);
	assert_int_equal(st.n_blkio[PD_BLKIO_SERVICED], 2);
	assert_int_equal(st.n_blkio[PD_BLKIO_SECTORS], 0);
	assert_int_equal(st.n_hugetlb, 2);
	for (size_t i = 0; i < st.n_hugetlb; i++) {
		if (strcmp(st.hugetlb[i].pagesize, "2MB") == 0) {
			assert_int_equal(st.hugetlb[i].usage, 2097152);
			assert_int_equal(st.hugetlb[i].max_usage, 4194304);
			assert_int_equal(st.hugetlb[i].failcnt, 1);
		} else
			assert_string_equal(st.hugetlb[i].pagesize, "1GB");
	}
	pd_cgroup_stats_free(&st);

	/* CFQ stats when the scheduler keeps them */
	snprintf(d, sizeof(d), "%s/blkio/pod/c1", root);
	fk_write(d, "blkio.io_serviced_recursive", "8:0 Read 5\n8:0 Write 6\nTotal 11\n");
	fk_write(d, "blkio.sectors_recursive", "8:0 6792\n");
	assert_int_equal(pd_cgroup_stats(cg, &st, &err), 0);
	assert_int_equal(st.n_blkio[PD_BLKIO_SERVICED], 2);
	assert_int_equal(st.blkio[PD_BLKIO_SERVICED][0].value, 5);
	assert_int_equal(st.n_blkio[PD_BLKIO_SECTORS], 1);
	assert_int_equal(st.blkio[PD_BLKIO_SECTORS][0].value, 6792);
	assert_int_equal(st.n_blkio[PD_BLKIO_SERVICE_BYTES], 0); /* no such file */
	pd_cgroup_stats_free(&st);
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

static void test_v1_oom(void **state)
{
	char root[256], d[512];
	fake_v1_root(root, sizeof(root));
	snprintf(d, sizeof(d), "%s/memory/pod/c1", root);
	struct pd_cgroup *cg;
	struct pd_error err;
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &cg, &err), 0);
	int fd = pd_cgroup_oom_fd(cg, &err);
	assert_true(fd >= 0);
	assert_int_equal(pd_cgroup_oom_fd(cg, &err), fd); /* the same fd every time */
	/* registered: "<eventfd> <oom_control fd>" */
	int efd, cfd;
	assert_int_equal(sscanf(fk_read(d, "cgroup.event_control"), "%d %d", &efd, &cfd), 2);
	assert_int_equal(efd, fd);
	char link[64], target[512];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", cfd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_non_null(strstr(target, "/memory/pod/c1/memory.oom_control"));
	/* nothing signalled: nothing happened */
	assert_false(pd_cgroup_oom_check(cg));
	/* the kernel signals (twice before we look): one OOM, and the fd is drained */
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	assert_true(pd_cgroup_oom_check(cg));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_false(pd_cgroup_oom_check(cg));
	/* the signal that comes with the removal of the cgroup is not an OOM */
	char path[600];
	snprintf(path, sizeof(path), "%s/memory.oom_control", d);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	assert_false(pd_cgroup_oom_check(cg));
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

static void test_v1_remove(void **state)
{
	char root[256], d[512];
	fake_v1_root(root, sizeof(root));
	struct pd_cgroup *cg;
	struct pd_error err;
	assert_int_equal(pd_cgroup_create(root, "pod/c1", NULL, &cg, &err), 0);
	/* plain files block rmdir on a fake tree, as a busy cgroup does on the kernel's */
	assert_int_equal(pd_cgroup_remove(cg, &err), -1);
	/* a sub-cgroup the container made goes first */
	for (size_t i = 0; i < N_V1; i++) {
		snprintf(d, sizeof(d), "%s/%s/pod/c1", root, v1_controllers[i]);
		fk_rm_rf(d);
		fk_mkdir("%s/sub/deeper", d);
	}
	assert_int_equal(pd_cgroup_remove(cg, &err), 0);
	for (size_t i = 0; i < N_V1; i++) {
		snprintf(d, sizeof(d), "%s/%s/pod/c1", root, v1_controllers[i]);
		assert_false(fk_exists(d));
		snprintf(d, sizeof(d), "%s/%s/pod", root, v1_controllers[i]);
		assert_true(fk_exists(d)); /* the parent is not the container's */
	}
	assert_int_equal(pd_cgroup_remove(cg, &err), 0); /* gone already: fine */
	pd_cgroup_free(cg);
	/* a parent made on demand, removed when empty */
	for (size_t i = 0; i < N_V1; i++) {
		snprintf(d, sizeof(d), "%s/%s/pod", root, v1_controllers[i]);
		fk_rm_rf(d);
		fk_mkdir("%s/%s/pidone-x/p2", root, v1_controllers[i]);
	}
	pd_cgroup_remove_parent(root, "pidone-x/p2");
	for (size_t i = 0; i < N_V1; i++) {
		snprintf(d, sizeof(d), "%s/%s/pidone-x", root, v1_controllers[i]);
		assert_false(fk_exists(d));
	}
	fk_rm_rf(root);
}

static void test_v1_comounted(void **state)
{
	/* a host's "cpu,cpuacct": cpu and cpuacct are symlinks to one hierarchy */
	char root[256], d[512];
	fk_tmpdir(root, sizeof(root));
	fk_mkdir("%s/cpu,cpuacct/c1", root);
	snprintf(d, sizeof(d), "%s/cpu", root);
	assert_int_equal(symlink("cpu,cpuacct", d), 0);
	snprintf(d, sizeof(d), "%s/cpuacct", root);
	assert_int_equal(symlink("cpu,cpuacct", d), 0);
	snprintf(d, sizeof(d), "%s/cpu,cpuacct/c1", root);
	fk_write(d, "cgroup.procs", "");
	fk_write(d, "cpu.shares", "");
	struct pd_resources res = {.has_cpu_shares = true, .cpu_shares = 100};
	struct pd_cgroup *cg;
	struct pd_error err;
	assert_int_equal(pd_cgroup_create(root, "c1", &res, &cg, &err), 0);
	assert_int_equal(pd_cgroup_enter(cg, 77, &err), 0);
	assert_string_equal(fk_read(d, "cgroup.procs"), "77\n"); /* written once */
	assert_string_equal(fk_read(d, "cpu.shares"), "100");
	const char *names[4], *paths[4];
	assert_int_equal(pd_cgroup_paths(cg, names, paths, 4), 2); /* both names listed */
	assert_string_equal(names[0], "cpu");
	assert_string_equal(names[1], "cpuacct");
	pd_cgroup_free(cg);
	fk_rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_rules),
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_create_refuses_bad_paths),
	    cmocka_unit_test(test_shares_to_weight),
	    cmocka_unit_test(test_blkio_weight),
	    cmocka_unit_test(test_swap_math),
	    cmocka_unit_test(test_cpu_max),
	    cmocka_unit_test(test_flat),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_blkio_v1_parse),
	    cmocka_unit_test(test_io_stat_parse),
	    cmocka_unit_test(test_ebpf_deny_all),
	    cmocka_unit_test(test_ebpf_one_device),
	    cmocka_unit_test(test_ebpf_access_and_wildcards),
	    cmocka_unit_test(test_ebpf_wildcard_ends),
	    cmocka_unit_test(test_ebpf_type_only),
	    cmocka_unit_test(test_device_rule_list),
	    cmocka_unit_test(test_v1_create_apply),
	    cmocka_unit_test(test_v1_update),
	    cmocka_unit_test(test_v1_cpuset_online),
	    cmocka_unit_test(test_v1_missing_controller),
	    cmocka_unit_test(test_v1_rollback),
	    cmocka_unit_test(test_v1_freeze),
	    cmocka_unit_test(test_v1_kill_all),
	    cmocka_unit_test(test_v1_stats),
	    cmocka_unit_test(test_v1_oom),
	    cmocka_unit_test(test_v1_remove),
	    cmocka_unit_test(test_v1_comounted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
