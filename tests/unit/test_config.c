/* pid 1's parsers: the kernel command line (agent.* options), mountinfo, the module list and
 * module name resolution. Bad values must be logged and leave the defaults in place. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/log.h"
#include "init/config.h"
#include "init/modules.h"
#include "init/mounts.h"

/* --- log capture: warnings go to a memfd sink as well as stderr ------------------------- */

static int log_fd = -1;

static int setup_log(void **state)
{
	log_fd = memfd_create("log", MFD_CLOEXEC);
	assert_true(log_fd >= 0);
	pd_log_set_level(PD_LOG_INFO);
	pd_log_set_sink(log_fd);
	return 0;
}

static int teardown_log(void **state)
{
	pd_log_set_sink(-1);
	close(log_fd);
	return 0;
}

/* Number of times needle was logged since the last call; clears the capture. */
static int logged(const char *needle)
{
	static char buf[1 << 16];
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal(ftruncate(log_fd, 0), 0);
	assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0); /* pd_log writes at the file offset */
	int count = 0;
	if (!*needle)
		return 0;
	for (char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
		count++;
	return count;
}

#define BAD "bad kernel command line option"

static struct pd_config parse(const char *cmdline)
{
	struct pd_config cfg;
	pd_config_defaults(&cfg);
	logged(""); /* clears the capture */
	pd_config_parse_cmdline(&cfg, cmdline);
	return cfg;
}

static void assert_defaults(const struct pd_config *c)
{
	assert_int_equal(c->log_level, PD_LOG_INFO);
	assert_string_equal(c->server_addr, "");
	assert_false(c->debug_console);
	assert_int_equal(c->debug_console_vport, 0);
	assert_int_equal(c->log_vport, 0);
	assert_false(c->devmode);
	assert_false(c->trace);
	assert_int_equal(c->hotplug_timeout_s, 3);
	assert_int_equal(c->container_pipe_size, 0);
	assert_false(c->cgroup_v2);
	assert_false(c->unsafe_vsock_loopback_peers);
}

/* --- command line ------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct pd_config c;
	memset(&c, 0xa5, sizeof(c));
	pd_config_defaults(&c);
	assert_defaults(&c);
}

static void test_every_option(void **state)
{
	struct pd_config c = parse(
	    "agent.log=debug agent.server_addr=unix:///run/a.sock agent.debug_console "
	    "agent.debug_console_vport=1026 agent.log_vport=1025 agent.devmode agent.trace=true "
	    "agent.hotplug_timeout=10 agent.container_pipe_size=1048576 "
	    "systemd.unified_cgroup_hierarchy=1\n");
	assert_int_equal(c.log_level, PD_LOG_DEBUG);
	assert_string_equal(c.server_addr, "unix:///run/a.sock");
	assert_true(c.debug_console);
	assert_int_equal(c.debug_console_vport, 1026);
	assert_int_equal(c.log_vport, 1025);
	assert_true(c.devmode);
	assert_true(c.trace);
	assert_int_equal(c.hotplug_timeout_s, 10);
	assert_int_equal(c.container_pipe_size, 1048576);
	assert_true(c.cgroup_v2);
	assert_int_equal(logged(BAD), 0);

	c = parse("agent.server_addr=vsock://-1:2048 agent.server_addr=serial://agent.channel.0");
	assert_string_equal(c.server_addr, "serial://agent.channel.0"); /* last one wins */
	/* A virtio-serial port and a listener together (the vsock boot test's vport mode). */
	c = parse("agent.server_addr=serial://agent.channel.0,vsock://-1:1024");
	assert_string_equal(c.server_addr, "serial://agent.channel.0,vsock://-1:1024");
	assert_int_equal(logged(BAD), 0);
	c = parse("agent.unsafe_vsock_loopback_peers");
	assert_true(c.unsafe_vsock_loopback_peers);
	c = parse("agent.unsafe_vsock_loopback_peers=0");
	assert_false(c.unsafe_vsock_loopback_peers);
	c = parse("agent.log=warning");
	assert_int_equal(c.log_level, PD_LOG_WARN);
	c = parse("agent.log=critical");
	assert_int_equal(c.log_level, PD_LOG_ERROR);
	c = parse("agent.log=trace");
	assert_int_equal(c.log_level, PD_LOG_DEBUG);
}

static void test_bad_values_keep_defaults(void **state)
{
	static const char *const bad[] = {
	    "agent.log=verbose",
	    "agent.log=",
	    "agent.log",
	    "agent.server_addr=tcp://1.2.3.4:5",
	    "agent.server_addr=",
	    "agent.server_addr",
	    "agent.server_addr=vsock://-1:1024,",
	    "agent.server_addr=vsock://-1:1024,vsock://-1:1025",
	    "agent.server_addr=serial://a,serial://b",
	    "agent.server_addr=serial://a,vsock://-1:1024,unix:///x",
	    "agent.server_addr=serial://a,tcp://1.2.3.4:5",
	    "agent.unsafe_vsock_loopback_peers=maybe",
	    "agent.debug_console_vport=-1",
	    "agent.debug_console_vport=0x10",
	    "agent.debug_console_vport=",
	    "agent.log_vport=12x",
	    "agent.log_vport=+5",
	    "agent.log_vport=4294967296",
	    "agent.log_vport=18446744073709551616",
	    "agent.log_vport=99999999999999999999999999999999999999",
	    "agent.log_vport",
	    "agent.hotplug_timeout=0",
	    "agent.hotplug_timeout=5s",
	    "agent.hotplug_timeout=3.5",
	    "agent.hotplug_timeout=1000000",
	    "agent.container_pipe_size=-1",
	    "agent.container_pipe_size=2147483648",
	    "agent.trace=maybe",
	    "agent.devmode=",
	    "agent.debug_console=2x",
	    "systemd.unified_cgroup_hierarchy=banana",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_config c = parse(bad[i]);
		assert_defaults(&c);
		if (logged(BAD) != 1)
			fail_msg("'%s' was not warned about exactly once", bad[i]);
	}
	/* A bad value does not undo an earlier good one. */
	struct pd_config c = parse("agent.hotplug_timeout=7 agent.hotplug_timeout=x");
	assert_int_equal(c.hotplug_timeout_s, 7);
	assert_int_equal(logged(BAD), 1);
}

static void test_booleans(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
	    {"agent.trace", true},
	    {"agent.trace=true", true},
	    {"agent.trace=false", false},
	    {"agent.trace=1", true},
	    {"agent.trace=0", false},
	    {"agent.trace=42", true},
	    {"agent.trace=00", false},
	    {"agent.trace=yes", true},
	    {"agent.trace=no", false},
	    {"agent.trace=on", true},
	    {"agent.trace=off", false},
	    {"agent.trace agent.trace=0", false},
	    {"agent.trace=0 agent.trace", true},
	    {"agent.trace=123456789012345678901234567890", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pd_config c = parse(cases[i].text);
		if (c.trace != cases[i].value)
			fail_msg("'%s' gave %d", cases[i].text, c.trace);
		assert_int_equal(logged(BAD), 0);
	}
	struct pd_config c = parse("agent.debug_console=1 agent.devmode=true");
	assert_true(c.debug_console);
	assert_true(c.devmode);
	/* Flags match the whole name only. */
	c = parse("agent.tracex agent.trace_level=1 xagent.trace");
	assert_false(c.trace);
}

static void test_cgroup_selection(void **state)
{
	static const struct {
		const char *text;
		bool v2;
	} cases[] = {
	    {"", false},
	    {"systemd.unified_cgroup_hierarchy=1", true},
	    {"systemd.unified_cgroup_hierarchy=true", true},
	    {"systemd.unified_cgroup_hierarchy", true},
	    {"systemd.unified_cgroup_hierarchy=0", false},
	    {"systemd.unified_cgroup_hierarchy=no", false},
	    {"cgroup_no_v1=all", true},
	    {"cgroup_no_v1=memory,cpu", false},
	    {"cgroup_no_v1=", false},
	    {"cgroup_no_v1", false},
	    /* Either option selects v2 (Kata ORs them), in any order. */
	    {"cgroup_no_v1=all systemd.unified_cgroup_hierarchy=0", true},
	    {"systemd.unified_cgroup_hierarchy=0 cgroup_no_v1=all", true},
	    {"cgroup_no_v1=all cgroup_no_v1=memory", true}, /* the kernel adds them up */
	    {"agent.unified_cgroup_hierarchy=1", false},    /* the old Go agent's name: not used */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pd_config c = parse(cases[i].text);
		if (c.cgroup_v2 != cases[i].v2)
			fail_msg("'%s' gave cgroup_v2=%d", cases[i].text, c.cgroup_v2);
	}
}

/* §5.3 of the protocol notes: what the Kata runtime passes QEMU on x86_64, with the agent
 * parameters it adds when debug is on. */
static void test_kata_default_qemu_cmdline(void **state)
{
	struct pd_config c = parse(
	    "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 "
	    "i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k cryptomgr.notests net.ifnames=0 "
	    "pci=lastbus=0 console=hvc0 console=hvc1 debug panic=1 nr_cpus=4 selinux=0 "
	    "scsi_mod.scan=none agent.log=debug agent.debug_console agent.debug_console_vport=1026 "
	    "agent.container_pipe_size=1048576 agent.trace=true agent.cdh_api_timeout=50 "
	    "agent.launch_process_timeout=6 agent.visible_cdi_devices=true\n");
	assert_int_equal(c.log_level, PD_LOG_DEBUG);
	assert_true(c.debug_console);
	assert_int_equal(c.debug_console_vport, 1026);
	assert_int_equal(c.container_pipe_size, 1048576);
	assert_true(c.trace);
	assert_string_equal(c.server_addr, ""); /* none passed: the agent chooses */
	assert_int_equal(c.hotplug_timeout_s, 3);
	assert_false(c.devmode);
	assert_false(c.cgroup_v2);
	assert_int_equal(logged(BAD), 0);
}

static void test_odd_inputs(void **state)
{
	static const char *const harmless[] = {
	    "",
	    " ",
	    "\t\n  \n",
	    "=",
	    "==",
	    "agent.",
	    "agent.=1",
	    "agent.nonsense=1",
	    "foo=\"a b\" agent.",
	    "--",
	    "-- agent.log=debug",
	    "agent.cdh_api_timeout=50",
	};
	for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++) {
		struct pd_config c = parse(harmless[i]);
		assert_defaults(&c);
		if (logged(BAD) != 0)
			fail_msg("'%s' was warned about", harmless[i]);
	}
	struct pd_config c;
	pd_config_defaults(&c);
	pd_config_parse_cmdline(&c, NULL);
	assert_defaults(&c);

	/* Whitespace of every kind separates; the trailing newline of /proc/cmdline too. */
	c = parse("\tagent.log=debug\n\nagent.log_vport=7\r\n");
	assert_int_equal(c.log_level, PD_LOG_DEBUG);
	assert_int_equal(c.log_vport, 7);
	/* Kernel parameters end at "--": the rest is init's argv. */
	c = parse("quiet agent.log_vport=3 -- agent.log_vport=4");
	assert_int_equal(c.log_vport, 3);
	/* "agent.log=debug=x": the value is "debug=x", not a level. */
	c = parse("agent.log=debug=x");
	assert_int_equal(c.log_level, PD_LOG_INFO);
	assert_int_equal(logged(BAD), 1);
}

static void test_long_inputs(void **state)
{
	/* 200 KB of other parameters, then ours at the very end. */
	size_t n = 200 * 1024;
	char *big = malloc(n + 64);
	assert_non_null(big);
	for (size_t i = 0; i < n; i += 10)
		memcpy(big + i, "junk=1234 ", 10);
	strcpy(big + n, "agent.log_vport=9");
	struct pd_config c = parse(big);
	assert_int_equal(c.log_vport, 9);

	/* One token of 200 KB with no space. */
	memset(big, 'x', n);
	strcpy(big + n, " agent.log_vport=8");
	c = parse(big);
	assert_int_equal(c.log_vport, 8);

	/* An agent value longer than any buffer: refused, not truncated into something else. */
	strcpy(big, "agent.server_addr=unix:///");
	memset(big + strlen(big), 'a', 5000);
	big[5026] = '\0';
	c = parse(big);
	assert_string_equal(c.server_addr, "");
	assert_int_equal(logged(BAD), 1);
	/* A unix path as long as sockaddr_un allows is taken whole; one longer is refused. */
	strcpy(big, "agent.server_addr=unix:///");
	memset(big + 26, 'b', 100);
	big[126] = '\0';
	c = parse(big);
	assert_string_equal(c.server_addr, big + 18);
	assert_int_equal(logged(BAD), 0);
	memset(big + 26, 'b', 200);
	big[226] = '\0';
	c = parse(big);
	assert_string_equal(c.server_addr, "");
	assert_int_equal(logged(BAD), 1);
	free(big);
}

static void test_describe(void **state)
{
	struct pd_config c;
	char buf[512];
	pd_config_defaults(&c);
	pd_config_describe(&c, buf, sizeof(buf));
	assert_string_equal(buf,
			    "log=info server_addr=auto debug_console=false debug_console_vport=0 "
			    "log_vport=0 devmode=false trace=false hotplug_timeout=3 "
			    "container_pipe_size=0 cgroup=v1");
	c = parse("agent.log=debug agent.server_addr=vsock://-1:1024 cgroup_no_v1=all agent.trace");
	pd_config_describe(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "log=debug server_addr=vsock://-1:1024 "));
	assert_non_null(strstr(buf, "trace=true"));
	assert_non_null(strstr(buf, "cgroup=v2"));
	assert_null(strstr(buf, "unsafe"));
	struct pd_config u = parse("agent.unsafe_vsock_loopback_peers");
	pd_config_describe(&u, buf, sizeof(buf));
	assert_non_null(strstr(buf, " unsafe_vsock_loopback_peers=true"));

	memset(buf, 'Z', sizeof(buf));
	pd_config_describe(&c, buf, 8);
	assert_string_equal(buf, "log=deb");
	assert_int_equal(buf[8], 'Z');
	pd_config_describe(&c, buf, 0); /* must not write */
	assert_int_equal(buf[0], 'l');
}

/* --- mountinfo ----------------------------------------------------------------------------- */

static const char sample_mountinfo[] =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "23 27 0:22 / /sys rw,relatime shared:7 - sysfs sysfs rw\n"
    "24 27 0:6 / /dev rw,relatime shared:2 master:1 - devtmpfs devtmpfs rw,mode=755\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "this line is garbage\n"
    "28 27 0:25 / /mnt/my\\040dir ro,nosuid - tmpfs none ro,size=4k\n"
    "29 27 0:26 / /back\\134slash rw - tmpfs none rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    "40 27 0:40 / /no-separator rw shared:1 tmpfs tmpfs rw\n"
    "41 27 0:41 / /dev/pts rw - devpts devpts rw";

static bool has(const char *path, const char *fstype)
{
	FILE *f = fmemopen((void *)sample_mountinfo, strlen(sample_mountinfo), "r");
	assert_non_null(f);
	bool found = pd_mountinfo_has(f, path, fstype);
	fclose(f);
	return found;
}

static void test_mountinfo_has(void **state)
{
	assert_true(has("/proc", "proc"));
	assert_true(has("/proc", NULL));
	assert_false(has("/proc", "sysfs"));
	assert_true(has("/sys", "sysfs"));
	assert_true(has("/dev", "devtmpfs")); /* after two optional fields */
	assert_true(has("/", "ext4"));
	assert_true(has("/mnt/my dir", "tmpfs")); /* \040 is a space */
	assert_false(has("/mnt/my\\040dir", NULL));
	assert_true(has("/back\\slash", "tmpfs"));
	assert_true(has("/sys/fs/cgroup", "tmpfs"));
	assert_true(has("/sys/fs/cgroup/cpu", "cgroup"));
	assert_false(has("/sys/fs/cgroup/memory", NULL));
	assert_false(has("/sys/fs", NULL)); /* a prefix is not a mount point */
	assert_false(has("/no-separator", NULL));
	assert_true(has("/dev/pts", "devpts")); /* last line without a newline */
	assert_false(has("/run", NULL));
}

static void test_mountinfo_parse_line(void **state)
{
	char line[] = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=x\n";
	struct pd_mountinfo_entry e;
	assert_int_equal(pd_mountinfo_parse_line(line, &e), 0);
	assert_string_equal(e.mount_point, "/mnt2");
	assert_string_equal(e.fstype, "ext3");

	char shortline[] = "36 35 98:0 /mnt1";
	assert_int_equal(pd_mountinfo_parse_line(shortline, &e), -1);
	char nofstype[] = "36 35 98:0 / /x rw -";
	assert_int_equal(pd_mountinfo_parse_line(nofstype, &e), -1);
	char empty[] = "";
	assert_int_equal(pd_mountinfo_parse_line(empty, &e), -1);
	char tab[] = "1 2 0:1 / /a\\011b rw - tmpfs x rw";
	assert_int_equal(pd_mountinfo_parse_line(tab, &e), 0);
	assert_string_equal(e.mount_point, "/a\tb");
}

static void test_is_mount_point_live(void **state)
{
	/* The test host has /proc mounted (we read /proc/self/mountinfo through it). */
	assert_true(pd_is_mount_point("/proc", "proc"));
	assert_false(pd_is_mount_point("/proc", "ext4"));
	assert_false(pd_is_mount_point("/definitely/not/mounted", NULL));
}

/* --- module list --------------------------------------------------------------------------- */

static void test_modules_parse_line(void **state)
{
	struct pd_module_entry e;
	struct pd_error err = {0};
	char l1[] = "# virtio first\n";
	assert_int_equal(pd_modules_parse_line(l1, &e, &err), 0);
	char l2[] = "\n";
	assert_int_equal(pd_modules_parse_line(l2, &e, &err), 0);
	char l3[] = "   \t \n";
	assert_int_equal(pd_modules_parse_line(l3, &e, &err), 0);
	char l4[] = "   # indented comment /a.ko\n";
	assert_int_equal(pd_modules_parse_line(l4, &e, &err), 0);

	char l5[] = "/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio.ko\n";
	assert_int_equal(pd_modules_parse_line(l5, &e, &err), 1);
	assert_string_equal(e.path, "/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio.ko");
	assert_string_equal(e.params, "");

	char l6[] = "  /lib/a.ko   foo=1 bar=\"x y\"  \t\n";
	assert_int_equal(pd_modules_parse_line(l6, &e, &err), 1);
	assert_string_equal(e.path, "/lib/a.ko");
	assert_string_equal(e.params, "foo=1 bar=\"x y\"");

	char l7[] = "\t/lib/b.ko\tparam=x";
	assert_int_equal(pd_modules_parse_line(l7, &e, &err), 1);
	assert_string_equal(e.path, "/lib/b.ko");
	assert_string_equal(e.params, "param=x");

	char l8[] = "virtio.ko opt=1\n";
	assert_int_equal(pd_modules_parse_line(l8, &e, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "virtio.ko"));
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_modules_load_file(void **state)
{
	char dir[] = "/tmp/pd-mods-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char list[128], junk[128], text[512];
	snprintf(list, sizeof(list), "%s/modules", dir);
	snprintf(junk, sizeof(junk), "%s/junk.ko", dir);
	write_text(junk, "this is not an ELF module");
	snprintf(text, sizeof(text),
		 "# comment\n\n/nonexistent/a.ko\nrelative.ko\n%s p=1\n   \n# end\n", junk);
	write_text(list, text);

	struct pd_error err = {0};
	logged("");
	/* Three entries fail (missing, relative, not a module); comments and blanks do not. */
	assert_int_equal(pd_modules_load_file(list, &err), 3);
	assert_int_equal(logged("module not loaded"), 3);

	write_text(list, "# only comments\n\n");
	assert_int_equal(pd_modules_load_file(list, &err), 0);

	snprintf(list, sizeof(list), "%s/missing", dir);
	assert_int_equal(pd_modules_load_file(list, &err), -1);
	assert_int_equal(err.errnum, ENOENT);

	/* finit_module refuses a file that is not a module (or we lack the right to load). */
	assert_int_equal(pd_module_load(junk, "", &err), -1);
	assert_int_not_equal(err.errnum, 0);
	assert_int_equal(pd_module_load("/nonexistent/x.ko", NULL, &err), -1);
	assert_int_equal(err.errnum, ENOENT);

	unlink(junk);
	snprintf(list, sizeof(list), "%s/modules", dir);
	unlink(list);
	rmdir(dir);
}

/* --- module names -------------------------------------------------------------------------- */

static void make_file(const char *root, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	struct pd_error err;
	assert_int_equal(pd_mkdir_p(path, 0755, &err), 0);
	*slash = '/';
	write_text(path, "");
}

static void test_module_find(void **state)
{
	char root[] = "/tmp/pd-moddir-XXXXXX";
	assert_non_null(mkdtemp(root));
	make_file(root, "kernel/drivers/char/virtio_console.ko");
	make_file(root, "kernel/fs/9p/9p.ko");
	make_file(root, "kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko.xz");
	make_file(root, "kernel/drivers/virtio/virtio_pci-legacy_dev.ko");
	make_file(root, "kernel/drivers/virtio/virtio_ring.txt");
	char loop[600];
	snprintf(loop, sizeof(loop), "%s/build", root);
	assert_int_equal(symlink(root, loop), 0); /* like /lib/modules/x/build: not followed */

	char path[4096], want[600];
	struct pd_error err = {0};
	assert_int_equal(pd_module_find(root, "virtio-console", path, sizeof(path), &err), 1);
	snprintf(want, sizeof(want), "%s/kernel/drivers/char/virtio_console.ko", root);
	assert_string_equal(path, want);
	assert_int_equal(pd_module_find(root, "9p", path, sizeof(path), &err), 1);
	assert_int_equal(
	    pd_module_find(root, "vmw_vsock_virtio_transport", path, sizeof(path), &err), 1);
	assert_non_null(strstr(path, ".ko.xz"));
	assert_int_equal(pd_module_find(root, "virtio_pci_legacy_dev", path, sizeof(path), &err),
			 1);

	/* Names only: a prefix, another extension, paths and odd characters are refused. */
	assert_int_equal(pd_module_find(root, "virtio", path, sizeof(path), &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_int_equal(pd_module_find(root, "virtio_ring", path, sizeof(path), &err), -1);
	static const char *const bad[] = {
	    "",
	    "9p.ko",
	    "../9p",
	    "a/b",
	    "a b",
	    "x;y",
	    "a_name_that_is_much_too_long_for_the_kernel_module_name_limit_of_56"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pd_module_find(root, bad[i], path, sizeof(path), &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	}

	/* modules.dep wins over the walk (its path need not be where the walk would look). */
	char idx[600];
	snprintf(idx, sizeof(idx), "%s/modules.dep", root);
	write_text(idx, "kernel/net/9p/9pnet.ko: kernel/fs/netfs/netfs.ko\n"
			"extra/9p.ko: kernel/net/9p/9pnet_virtio.ko kernel/net/9p/9pnet.ko\n");
	assert_int_equal(pd_module_find(root, "9p", path, sizeof(path), &err), 1);
	snprintf(want, sizeof(want), "%s/extra/9p.ko", root);
	assert_string_equal(path, want);
	/* A name that is only in the tree is still found. */
	assert_int_equal(pd_module_find(root, "virtio_console", path, sizeof(path), &err), 1);
	/* Built in: nothing to load. */
	snprintf(idx, sizeof(idx), "%s/modules.builtin", root);
	write_text(idx, "kernel/drivers/block/loop.ko\nkernel/fs/ext4/ext4.ko\n");
	assert_int_equal(pd_module_find(root, "loop", path, sizeof(path), &err), 0);
	assert_int_equal(pd_module_find(root, "ext4", path, sizeof(path), &err), 0);

	/* The tree's own files are cleaned up by a shell; keep the test free of rm -r logic. */
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_module_load_by_name_refuses_bad_input(void **state)
{
	struct pd_error err = {0};
	assert_int_equal(pd_module_load_by_name("../../etc/passwd", "", &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	char params[5000];
	memset(params, 'p', sizeof(params) - 1);
	params[sizeof(params) - 1] = '\0';
	assert_int_equal(pd_module_load_by_name("dummy", params, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_module_load_by_name("pd_no_such_module_xyz", "", &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_option),
	    cmocka_unit_test(test_bad_values_keep_defaults),
	    cmocka_unit_test(test_booleans),
	    cmocka_unit_test(test_cgroup_selection),
	    cmocka_unit_test(test_kata_default_qemu_cmdline),
	    cmocka_unit_test(test_odd_inputs),
	    cmocka_unit_test(test_long_inputs),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_mountinfo_has),
	    cmocka_unit_test(test_mountinfo_parse_line),
	    cmocka_unit_test(test_is_mount_point_live),
	    cmocka_unit_test(test_modules_parse_line),
	    cmocka_unit_test(test_modules_load_file),
	    cmocka_unit_test(test_module_find),
	    cmocka_unit_test(test_module_load_by_name_refuses_bad_input),
	};
	return cmocka_run_group_tests(tests, setup_log, teardown_log);
}
