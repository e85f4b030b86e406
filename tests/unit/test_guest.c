/* Guest management (agent/guest/): every function runs against a fake sysfs/procfs tree made
 * in a temporary directory, and the files are read back to see what was written. Also: a
 * real tmpfs for the volume figures (in a private mount namespace), the helper-program
 * runner driven by a real event loop and SIGCHLD, and the storage driver list checked
 * against what agent/sandbox/storage.c accepts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/device/blockdev.h"
#include "agent/guest/guest.h"
#include "agent/loop.h"
#include "agent/proctable.h"
#include "agent/sandbox/storage.h"

static char root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup_root(void **state)
{
	snprintf(root, sizeof(root), "/tmp/pd-guest-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown_root(void **state)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- fake trees ---------------------------------------------------------------------------- */

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

/* root/rel with the given content (directories made as needed). */
static void put(const char *rel, const char *content)
{
	char path[PATH_MAX], dir[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdirs(path);
}

/* Content of root/rel ("<missing>" if there is none). */
static const char *get(const char *rel)
{
	static char buf[256];
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return "<missing>";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- CPU lists and onlining ---------------------------------------------------------------- */

static void test_cpu_list_count(void **state)
{
	static const struct {
		const char *text;
		unsigned want;
	} good[] = {
		{"0-3,5\n", 5}, {"0\n", 1},     {"", 0},         {"\n", 0},
		{"0-1,3-4,7", 5}, {"2-2", 1},   {"0-127\n", 128}, {"1,3,5,7\n", 4},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		unsigned n = 99;
		struct pd_error err = {0};
		assert_int_equal(pd_cpu_list_count(good[i].text, &n, &err), 0);
		assert_int_equal(n, good[i].want);
	}
	static const char *const bad[] = {"3-1", "a", "0,", "0-", ",1", "1 2", "1-2-3", "-1",
					  "0,,1", "99999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned n;
		struct pd_error err = {0};
		assert_int_equal(pd_cpu_list_count(bad[i], &n, &err), -1);
		assert_int_equal(err.code, PD_INTERNAL);
		assert_non_null(strstr(err.msg, "bad CPU list"));
	}
}

#define CPU "sys/devices/system/cpu/"

/* cpu0 has no online file (not hot-pluggable), 1 and 4 are up, 2, 3 and 10 are down. */
static void fake_cpus(void)
{
	put(CPU "online", "0-1,4\n");
	put(CPU "possible", "0-10\n");
	dir(CPU "cpu0");
	put(CPU "cpu1/online", "1\n");
	put(CPU "cpu2/online", "0\n");
	put(CPU "cpu3/online", "0\n");
	put(CPU "cpu4/online", "1\n");
	put(CPU "cpu10/online", "0\n");
	put(CPU "cpufreq/online", "0\n"); /* not a cpuN entry */
	dir(CPU "cpuidle");
}

static const char *sysfs(void)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/sys", root);
	return buf;
}

static void test_cpus_online_enough_already(void **state)
{
	fake_cpus();
	unsigned online = 0;
	struct pd_error err = {0};
	assert_int_equal(pd_cpus_online(sysfs(), 3, &online, &err), 0);
	assert_int_equal(online, 3);
	assert_string_equal(get(CPU "cpu2/online"), "0\n"); /* nothing written */
	assert_int_equal(pd_cpus_online(sysfs(), 1, &online, &err), 0);
	assert_int_equal(online, 3);
}

static void test_cpus_online_lowest_first(void **state)
{
	fake_cpus();
	unsigned online = 0;
	struct pd_error err = {0};
	assert_int_equal(pd_cpus_online(sysfs(), 4, &online, &err), 0);
	assert_int_equal(online, 4);
	assert_string_equal(get(CPU "cpu2/online"), "1");
	assert_string_equal(get(CPU "cpu3/online"), "0\n"); /* only as many as needed */
	assert_string_equal(get(CPU "cpu10/online"), "0\n");
	assert_string_equal(get(CPU "cpufreq/online"), "0\n");
	assert_string_equal(get(CPU "cpu1/online"), "1\n"); /* online ones are not rewritten */
}

static void test_cpus_online_all(void **state)
{
	fake_cpus();
	unsigned online = 0;
	struct pd_error err = {0};
	assert_int_equal(pd_cpus_online(sysfs(), 6, &online, &err), 0);
	assert_int_equal(online, 6);
	assert_string_equal(get(CPU "cpu2/online"), "1");
	assert_string_equal(get(CPU "cpu3/online"), "1");
	assert_string_equal(get(CPU "cpu10/online"), "1");
}

static void test_cpus_online_not_enough(void **state)
{
	fake_cpus();
	unsigned online = 0;
	struct pd_error err = {0};
	/* 11 possible, 3 up, 3 down: 7 cannot be reached now (not plugged in yet). */
	assert_int_equal(pd_cpus_online(sysfs(), 7, &online, &err), -1);
	assert_int_equal(err.code, PD_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "only 6 of 7 CPUs are online"));
	assert_int_equal(online, 6);
	assert_string_equal(get(CPU "cpu10/online"), "1"); /* it still did what it could */
	/* More than possible: never. */
	assert_int_equal(pd_cpus_online(sysfs(), 12, &online, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "11 possible"));
}

static void test_cpus_online_without_sysfs(void **state)
{
	unsigned online;
	struct pd_error err = {0};
	assert_int_equal(pd_cpus_online(sysfs(), 1, &online, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
}

/* ---- memory -------------------------------------------------------------------------------- */

#define MEM "sys/devices/system/memory/"

static void test_memory_online(void **state)
{
	put(MEM "block_size_bytes", "8000000\n");
	put(MEM "memory0/online", "1\n");
	put(MEM "memory1/online", "0\n");
	put(MEM "memory7/online", "0\n");
	put(MEM "memory8/online", "1\n");
	put(MEM "power/online", "0\n"); /* not a memoryN entry */
	unsigned n = 99;
	struct pd_error err = {0};
	assert_int_equal(pd_memory_online(sysfs(), &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(get(MEM "memory1/online"), "1");
	assert_string_equal(get(MEM "memory7/online"), "1");
	assert_string_equal(get(MEM "memory0/online"), "1\n");
	assert_string_equal(get(MEM "power/online"), "0\n");
	/* Again: nothing left to do. */
	assert_int_equal(pd_memory_online(sysfs(), &n, &err), 0);
	assert_int_equal(n, 0);
}

static void test_memory_online_without_hotplug(void **state)
{
	unsigned n = 99;
	struct pd_error err = {0};
	dir("sys/devices/system");
	assert_int_equal(pd_memory_online(sysfs(), &n, &err), 0);
	assert_int_equal(n, 0);
}

/* A block whose online file cannot be written (a read-only bind mount, in a private mount
 * namespace of a child) is reported, and the others are still brought online. */
static int memory_online_failure_child(void)
{
	char path[PATH_MAX];
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return PD_SKIP_EXIT;
	snprintf(path, sizeof(path), "%s/" MEM "memory3/online", root);
	if (mount(path, path, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return PD_SKIP_EXIT;
	unsigned n = 0;
	struct pd_error err = {0};
	if (pd_memory_online(sysfs(), &n, &err) != -1)
		return 1;
	if (n != 2 || err.errnum != EROFS || !strstr(err.msg, "memory3") ||
	    !strstr(err.msg, "2 of 3 offline memory blocks"))
		return fprintf(stderr, "n=%u code=%d msg=%s\n", n, err.code, err.msg), 2;
	if (strcmp(get(MEM "memory2/online"), "1") || strcmp(get(MEM "memory4/online"), "1"))
		return 3;
	return 0;
}

static void test_memory_online_failure(void **state)
{
	put(MEM "memory2/online", "0\n");
	put(MEM "memory3/online", "0\n");
	put(MEM "memory4/online", "0\n");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(memory_online_failure_child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == PD_SKIP_EXIT)
		PD_SKIP("not root, or no new mount namespace");
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_block_size_parse(void **state)
{
	uint64_t v = 0;
	struct pd_error err = {0};
	assert_int_equal(pd_memory_block_size_parse("8000000\n", &v, &err), 0);
	assert_int_equal(v, 134217728);
	assert_int_equal(pd_memory_block_size_parse("  80000000", &v, &err), 0);
	assert_int_equal(v, 0x80000000ULL);
	assert_int_equal(pd_memory_block_size_parse("0x8000000", &v, &err), 0);
	assert_int_equal(v, 134217728);
	static const char *const bad[] = {"", "\n", "zz", "0", "8000000 x", "-1",
					  "fffffffffffffffffff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pd_memory_block_size_parse(bad[i], &v, &err), -1);
		assert_int_equal(err.code, PD_INTERNAL);
	}
}

static void test_block_size_file(void **state)
{
	uint64_t v = 99;
	struct pd_error err = {0};
	assert_int_equal(pd_memory_block_size(sysfs(), &v, &err), 0); /* no file: 0 */
	assert_int_equal(v, 0);
	put(MEM "block_size_bytes", "10000000\n");
	assert_int_equal(pd_memory_block_size(sysfs(), &v, &err), 0);
	assert_int_equal(v, 0x10000000);
	put(MEM "block_size_bytes", "garbage\n");
	assert_int_equal(pd_memory_block_size(sysfs(), &v, &err), -1);
	assert_int_equal(err.code, PD_INTERNAL);
}

static void test_probe(void **state)
{
	struct pd_error err = {0};
	uint64_t addrs[] = {0x1A0000000ULL, 0x1B0000000ULL};
	dir(MEM);
	assert_false(pd_memory_probe_supported(sysfs()));
	assert_int_equal(pd_memory_probe(sysfs(), addrs, 1, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "CONFIG_ARCH_MEMORY_PROBE"));
	assert_int_equal(pd_memory_probe(sysfs(), addrs, 0, &err), 0); /* nothing to do */

	put(MEM "probe", "");
	assert_true(pd_memory_probe_supported(sysfs()));
	assert_int_equal(pd_memory_probe(sysfs(), addrs, 1, &err), 0);
	assert_string_equal(get(MEM "probe"), "0x1A0000000");
	assert_int_equal(pd_memory_probe(sysfs(), addrs, 2, &err), 0);
	assert_string_equal(get(MEM "probe"), "0x1B0000000"); /* one write each, in order */
	assert_int_equal(pd_memory_probe(sysfs(), addrs, PD_PROBE_ADDRS_MAX + 1, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
}

static void test_details(void **state)
{
	struct pd_guest_details d;
	struct pd_error err = {0};
	put(MEM "block_size_bytes", "8000000\n");
	assert_int_equal(pd_guest_details(sysfs(), true, true, &d, &err), 0);
	assert_int_equal(d.mem_block_size_bytes, 134217728);
	assert_false(d.support_mem_hotplug_probe);
	assert_string_equal(d.version, PD_VERSION);
	assert_int_equal(d.init_daemon, getpid() == 1);
	assert_true(d.supports_seccomp);
	assert_int_equal(d.n_storage_handlers, 9);
	put(MEM "probe", "");
	assert_int_equal(pd_guest_details(sysfs(), true, true, &d, &err), 0);
	assert_true(d.support_mem_hotplug_probe);
	/* Not asked: not looked at. */
	assert_int_equal(pd_guest_details(sysfs(), false, false, &d, &err), 0);
	assert_int_equal(d.mem_block_size_bytes, 0);
	assert_false(d.support_mem_hotplug_probe);
}

/* Every handler we announce is a driver storage.c accepts, and an unknown one is refused:
 * a mount point outside /run/kata-containers fails after the driver check, before any
 * mount, so the error code tells which check refused it. */
static void test_details_storage_handlers_match_storage(void **state)
{
	struct pd_guest_details d;
	struct pd_error err = {0};
	struct pd_sandbox sb;
	memset(&sb, 0, sizeof(sb));
	pd_list_init(&sb.storages);
	assert_int_equal(pd_guest_details(sysfs(), false, false, &d, &err), 0);
	for (size_t i = 0; i < d.n_storage_handlers; i++) {
		struct pd_storage_spec spec = {.driver = d.storage_handlers[i],
					       .source = "/run/kata-containers/x",
					       .mount_point = "/not-under-the-storage-root"};
		assert_int_equal(pd_storage_acquire(&sb, &spec, &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
		assert_non_null(strstr(err.msg, "is not under"));
	}
	struct pd_storage_spec nvme = {.driver = "nvme", .source = "/dev/nvme0n1",
				       .mount_point = "/not-under-the-storage-root"};
	assert_int_equal(pd_storage_acquire(&sb, &nvme, &err), -1);
	assert_int_equal(err.code, PD_UNIMPLEMENTED);
	/* A block driver whose disk was not looked up first, or without an fstype. */
	struct pd_storage_spec blk = {.driver = "blk", .source = "02/01",
				      .mount_point = "/run/kata-containers/x"};
	assert_int_equal(pd_storage_acquire(&sb, &blk, &err), -1);
	assert_int_equal(err.code, PD_INTERNAL);
	blk.device = "/dev/vdb";
	assert_int_equal(pd_storage_acquire(&sb, &blk, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "no fstype"));
}

/* ---- PCI paths and swap -------------------------------------------------------------------- */

static void test_pci_path_check(void **state)
{
	struct pd_error err = {0};
	uint32_t ok1[] = {2}, ok2[] = {31, 0, 5};
	uint32_t deep[PD_PCI_PATH_MAX + 1] = {0}, big[] = {2, 32};
	assert_int_equal(pd_pci_path_check(ok1, 1, &err), 0);
	assert_int_equal(pd_pci_path_check(ok2, 3, &err), 0);
	assert_int_equal(pd_pci_path_check(deep, PD_PCI_PATH_MAX, &err), 0);
	assert_int_equal(pd_pci_path_check(ok1, 0, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "empty PCI path"));
	assert_int_equal(pd_pci_path_check(deep, PD_PCI_PATH_MAX + 1, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_pci_path_check(big, 2, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "element 1: slot 32"));
}

#define PCI "sys/devices/pci0000:00/"

static void fake_pci(void)
{
	/* 02: a bridge with pci_bus/ to bus 01; behind it, slot 01 holds disk vdb. */
	dir(PCI "0000:00:02.0/pci_bus/0000:01");
	dir(PCI "0000:00:02.0/0000:01:01.0/virtio3/block/vdb/queue");
	dir(PCI "0000:00:02.0/0000:01:01.0/virtio3/driver");
	/* 03: a bridge without pci_bus/: its bus is read off the device below it. */
	put(PCI "0000:00:03.0/vendor", "0x1b36\n");
	dir(PCI "0000:00:03.0/0000:05:00.0/virtio1/block/vdc");
	/* 04: a disk on the root bus. */
	dir(PCI "0000:00:04.0/virtio0/block/vda");
	/* 07: a device that is not a virtio disk (a NIC). */
	dir(PCI "0000:00:07.0/virtio2/net/eth0");
	/* 1f: a bridge with nothing behind it. */
	dir(PCI "0000:00:1f.0/power");
}

static void test_pci_path_to_sysfs(void **state)
{
	fake_pci();
	char out[PATH_MAX], want[PATH_MAX];
	struct pd_error err = {0};
	uint32_t p21[] = {2, 1}, p30[] = {3, 0}, p4[] = {4};
	assert_int_equal(pd_pci_path_to_sysfs(sysfs(), p21, 2, out, sizeof(out), &err), 0);
	snprintf(want, sizeof(want), "%s/" PCI "0000:00:02.0/0000:01:01.0", root);
	assert_string_equal(out, want);
	assert_int_equal(pd_pci_path_to_sysfs(sysfs(), p30, 2, out, sizeof(out), &err), 0);
	snprintf(want, sizeof(want), "%s/" PCI "0000:00:03.0/0000:05:00.0", root);
	assert_string_equal(out, want);
	assert_int_equal(pd_pci_path_to_sysfs(sysfs(), p4, 1, out, sizeof(out), &err), 0);
	snprintf(want, sizeof(want), "%s/" PCI "0000:00:04.0", root);
	assert_string_equal(out, want);
}

static void test_virtio_blk_at(void **state)
{
	fake_pci();
	char name[64];
	struct pd_error err = {0};
	uint32_t p21[] = {2, 1}, p30[] = {3, 0}, p4[] = {4}, p7[] = {7}, p6[] = {6};
	uint32_t p22[] = {2, 2}, p1f1[] = {31, 1};
	assert_int_equal(pd_virtio_blk_at(sysfs(), p21, 2, name, sizeof(name), &err), 0);
	assert_string_equal(name, "vdb");
	assert_int_equal(pd_virtio_blk_at(sysfs(), p30, 2, name, sizeof(name), &err), 0);
	assert_string_equal(name, "vdc");
	assert_int_equal(pd_virtio_blk_at(sysfs(), p4, 1, name, sizeof(name), &err), 0);
	assert_string_equal(name, "vda");

	assert_int_equal(pd_virtio_blk_at(sysfs(), p7, 1, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no virtio-blk disk at PCI path 07"));
	assert_int_equal(pd_virtio_blk_at(sysfs(), p6, 1, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no PCI device at"));
	assert_int_equal(pd_virtio_blk_at(sysfs(), p22, 2, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_int_equal(pd_virtio_blk_at(sysfs(), p1f1, 2, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no bus behind PCI bridge"));
	uint32_t bad[] = {40};
	assert_int_equal(pd_virtio_blk_at(sysfs(), bad, 1, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
}

static void test_blk_find(void **state)
{
	fake_pci();
	put("sys/class/block/vdb/dev", "254:16\n");
	put("sys/class/block/vdc/dev", "254:32\n");
	/* SCSI: target 0 LUN 1 on host 0 is sda; target 2 LUN 3 sits on two hosts. */
	dir("sys/bus/scsi/devices/0:0:0:1/block/sda");
	put("sys/class/block/sda/dev", "8:0\n");
	dir("sys/bus/scsi/devices/0:0:2:3/block/sdb");
	dir("sys/bus/scsi/devices/1:0:2:3/block/sdc");
	dir("sys/bus/scsi/devices/0:1:4:0/block/sdd"); /* channel 1: not ours */
	struct pd_blk_want w;
	struct pd_blk_found f;
	struct pd_error err = {0};
	assert_int_equal(pd_blk_want_parse("blk", "02/01", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), 0);
	assert_string_equal(f.name, "vdb");
	assert_int_equal(f.major, 254);
	assert_int_equal(f.minor, 16);
	assert_int_equal(pd_blk_want_parse("mmioblk", "/dev/vdc", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), 0);
	assert_int_equal(f.minor, 32);
	assert_int_equal(pd_blk_want_parse("scsi", "0:1", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), 0);
	assert_string_equal(f.name, "sda");
	assert_int_equal(f.major, 8);

	/* Not there (yet): NOT_FOUND, the status a caller waits on. */
	assert_int_equal(pd_blk_want_parse("blk", "04", &w, &err), 0); /* vda: no class entry */
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_int_equal(pd_blk_want_parse("blk", "09/01", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_int_equal(pd_blk_want_parse("scsi", "4:0", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no disk at SCSI address 4:0"));
	assert_int_equal(pd_blk_want_parse("mmioblk", "/dev/vdz", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	/* Two hosts with the address: not something waiting cures. */
	assert_int_equal(pd_blk_want_parse("scsi", "2:3", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	/* A dev file that is not MAJOR:MINOR. */
	put("sys/class/block/vdq/dev", "nonsense\n");
	assert_int_equal(pd_blk_want_parse("blk", "/dev/vdq", &w, &err), 0);
	assert_int_equal(pd_blk_find(sysfs(), &w, &f, &err), -1);
	assert_int_equal(err.code, PD_INTERNAL);
}

static void test_swap_check_path(void **state)
{
	struct pd_error err = {0};
	char file[PATH_MAX];
	put("swapfile", "");
	snprintf(file, sizeof(file), "%s/swapfile", root);
	assert_int_equal(pd_swap_check_path(file, &err), 0);
	assert_int_equal(pd_swap_check_path("swapfile", &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_swap_check_path("/tmp/../etc/passwd", &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_swap_check_path("", &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_swap_check_path("/no/such/swapfile", &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_int_equal(pd_swap_check_path(root, &err), -1); /* a directory */
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_swap_check_path("/dev/null", &err), -1); /* a char device */
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "neither a regular file nor a block device"));
}

/* swapon of a file without a swap signature: refused by the kernel, nothing enabled. */
static void test_swap_on_not_a_swap_area(void **state)
{
	struct pd_error err = {0};
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/zeros", root);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	static const char zero[65536];
	for (int i = 0; i < 16; i++)
		assert_int_equal(write(fd, zero, sizeof(zero)), sizeof(zero));
	close(fd);
	assert_int_equal(pd_swap_on(file, &err), -1);
	if (geteuid() == 0)
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	else
		assert_int_equal(err.code, PD_PERMISSION_DENIED);
	assert_non_null(strstr(err.msg, "swapon"));
}

/* ---- volume figures ------------------------------------------------------------------------ */

static int volume_child(void)
{
	char mnt[PATH_MAX], file[PATH_MAX];
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return PD_SKIP_EXIT;
	snprintf(mnt, sizeof(mnt), "%s/vol", root);
	mkdir(mnt, 0755);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m,nr_inodes=64") < 0)
		return PD_SKIP_EXIT;
	struct pd_volume_usage b0, i0, b1, i1;
	struct pd_error err = {0};
	if (pd_volume_stats(mnt, &b0, &i0, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), 1;
	if (b0.total != 4u << 20 || b0.available != b0.total - b0.used || i0.total != 64)
		return fprintf(stderr, "total %llu avail %llu used %llu inodes %llu\n",
			       (unsigned long long)b0.total, (unsigned long long)b0.available,
			       (unsigned long long)b0.used, (unsigned long long)i0.total),
		       2;
	snprintf(file, sizeof(file), "%s/data", mnt);
	int fd = open(file, O_WRONLY | O_CREAT, 0600);
	static const char block[65536] = {1};
	for (int i = 0; fd >= 0 && i < 16; i++)
		if (write(fd, block, sizeof(block)) != sizeof(block))
			return 3;
	close(fd);
	if (pd_volume_stats(file, &b1, &i1, &err) < 0) /* any path on the volume will do */
		return 4;
	if (b1.used < b0.used + (1u << 20) || b1.available > b0.available - (1u << 20) ||
	    b1.total != b0.total)
		return 5;
	if (i1.used != i0.used + 1 || i1.available != i0.available - 1 || i1.total != 64)
		return fprintf(stderr, "inodes used %llu -> %llu\n", (unsigned long long)i0.used,
			       (unsigned long long)i1.used),
		       6;
	return 0;
}

static void test_volume_stats_tmpfs(void **state)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(volume_child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == PD_SKIP_EXIT)
		PD_SKIP("not root, or no new mount namespace");
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_volume_stats_bad_paths(void **state)
{
	struct pd_volume_usage b, i;
	struct pd_error err = {0};
	assert_int_equal(pd_volume_stats("relative", &b, &i, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_volume_stats("/a/../b", &b, &i, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_volume_stats("/no/such/volume", &b, &i, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
}

/* ---- clock and entropy --------------------------------------------------------------------- */

static void test_time_check(void **state)
{
	struct pd_error err = {0};
	assert_int_equal(pd_guest_time_check(0, 0, &err), 0);
	assert_int_equal(pd_guest_time_check(1700000000, 999999, &err), 0);
	assert_int_equal(pd_guest_time_check(-1, 0, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_guest_time_check(0, -1, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_guest_time_check(0, 1000000, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "Usec 1000000"));
	/* The setter checks first: a bad value never reaches settimeofday. */
	assert_int_equal(pd_guest_time_set(1700000000, 1000000, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
}

static void test_reseed_checks(void **state)
{
	struct pd_error err = {0};
	char dev[PATH_MAX];
	snprintf(dev, sizeof(dev), "%s/random", root);
	assert_int_equal(pd_random_reseed(dev, "", 0, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	char *big = calloc(1, PD_RESEED_MAX + 1);
	assert_non_null(big);
	assert_int_equal(pd_random_reseed(dev, big, PD_RESEED_MAX + 1, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	free(big);
	assert_string_equal(get("random"), "<missing>"); /* nothing opened or written */
	assert_int_equal(pd_random_reseed(dev, "abc", 3, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	/* Not a random device: the data goes in, the ioctl says no, and that is an error. */
	put("random", "");
	assert_int_equal(pd_random_reseed(dev, "abc", 3, &err), -1);
	assert_non_null(strstr(err.msg, "RNDADDTOENTCNT"));
	assert_string_equal(get("random"), "abc");
}

/* ---- iptables programs --------------------------------------------------------------------- */

static void put_exec(const char *rel, int mode)
{
	char path[PATH_MAX];
	put(rel, "#!/bin/sh\n");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static void test_iptables_find(void **state)
{
	char path[PATH_MAX], want[PATH_MAX];
	struct pd_error err = {0};
	put_exec("sbin/iptables-save", 0755);
	put_exec("usr/bin/iptables-save", 0755);
	put_exec("usr/sbin/iptables-restore", 0644); /* not executable: passed over */
	put_exec("bin/iptables-restore", 0755);
	dir("usr/sbin/ip6tables-save"); /* a directory: passed over */
	put_exec("usr/sbin/ip6tables-restore", 0700);

	assert_int_equal(pd_iptables_find(root, false, false, path, sizeof(path), &err), 0);
	snprintf(want, sizeof(want), "%s/sbin/iptables-save", root); /* /sbin before /usr/bin */
	assert_string_equal(path, want);
	assert_int_equal(pd_iptables_find(root, false, true, path, sizeof(path), &err), 0);
	snprintf(want, sizeof(want), "%s/bin/iptables-restore", root);
	assert_string_equal(path, want);
	assert_int_equal(pd_iptables_find(root, true, true, path, sizeof(path), &err), 0);
	snprintf(want, sizeof(want), "%s/usr/sbin/ip6tables-restore", root);
	assert_string_equal(path, want);
	assert_int_equal(pd_iptables_find(root, true, false, path, sizeof(path), &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_string_equal(err.msg, "ip6tables-save is not in the guest image");
}

/* ---- the helper-program runner, on a real loop --------------------------------------------- */

struct ran {
	bool done;
	int calls;
	char *out;
	size_t out_len;
	struct pd_error err;
	bool failed;
};

static struct pd_loop loop;
static struct pd_watch sigchld, ticker;
static bool (*stop_when)(void);
static int64_t deadline_ms;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_sigchld(struct pd_loop *l, struct pd_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si))
		;
	pd_proctable_reap();
}

static void on_tick(struct pd_loop *l, struct pd_watch *w, uint32_t events)
{
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) < 0)
		return;
	if ((stop_when && stop_when()) || now_ms() > deadline_ms)
		pd_loop_stop(l);
}

static int loop_setup(void **state)
{
	struct pd_error err = {0};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* as in the agent, where every signal goes to a signalfd */
	pd_proctable_init();
	assert_int_equal(pd_loop_init(&loop, &err), 0);
	sigchld.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	sigchld.fn = on_sigchld;
	ticker.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ticker.fn = on_tick;
	struct itimerspec its = {.it_interval = {.tv_nsec = 20000000},
				 .it_value = {.tv_nsec = 20000000}};
	timerfd_settime(ticker.fd, 0, &its, NULL);
	assert_int_equal(pd_loop_add(&loop, &sigchld, EPOLLIN, &err), 0);
	assert_int_equal(pd_loop_add(&loop, &ticker, EPOLLIN, &err), 0);
	return setup_root(state);
}

static int loop_teardown(void **state)
{
	close(sigchld.fd);
	close(ticker.fd);
	pd_loop_close(&loop);
	return teardown_root(state);
}

static struct ran *current;

static bool ran_done(void)
{
	return current->done;
}

static bool none_busy(void)
{
	return pd_runcmd_busy() == 0;
}

/* Run the loop until cond() or ms pass; returns the time it took. */
static int64_t run_loop(bool (*cond)(void), int ms)
{
	struct pd_error err = {0};
	int64_t start = now_ms();
	stop_when = cond;
	deadline_ms = start + ms;
	loop.stop = false;
	if (!cond())
		assert_int_equal(pd_loop_run(&loop, &err), 0);
	return now_ms() - start;
}

static void on_done(void *data, const uint8_t *out, size_t len, const struct pd_error *err)
{
	struct ran *r = data;
	r->calls++;
	r->done = true;
	r->out = malloc(len + 1);
	memcpy(r->out, out ? (const char *)out : "", len);
	r->out[len] = '\0';
	r->out_len = len;
	r->failed = err != NULL;
	if (err)
		r->err = *err;
}

static struct pd_runcmd *start_sh(struct ran *r, const char *script, const void *in, size_t len,
				  size_t out_max, unsigned timeout_ms, struct pd_error *err)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct pd_runcmd_spec spec = {.argv = argv, .in = in, .in_len = len, .out_max = out_max,
				      .timeout_ms = timeout_ms};
	memset(r, 0, sizeof(*r));
	current = r;
	return pd_runcmd_start(&loop, &spec, on_done, r, err);
}

static void test_runcmd_stdin_to_stdout(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	assert_non_null(start_sh(&r, "cat; echo note >&2", "hello\n", 6, 1 << 20, 10000, &err));
	assert_false(r.done); /* never answered from the start call */
	run_loop(ran_done, 60000);
	assert_true(r.done);
	assert_int_equal(r.calls, 1);
	assert_false(r.failed);
	assert_string_equal(r.out, "hello\n");
	assert_int_equal(pd_runcmd_busy(), 0);
	free(r.out);
}

static void test_runcmd_failure_status_and_stderr(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	assert_non_null(start_sh(&r, "echo partial; echo 'line 3: bad rule' >&2; exit 3", NULL, 0,
				 1 << 20, 10000, &err));
	run_loop(ran_done, 60000);
	assert_true(r.failed);
	assert_int_equal(r.err.code, PD_INTERNAL);
	assert_string_equal(r.err.msg, "sh failed with exit status 3: line 3: bad rule");
	free(r.out);
}

static void test_runcmd_killed_by_signal(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	assert_non_null(start_sh(&r, "kill -TERM $$", NULL, 0, 1 << 20, 10000, &err));
	run_loop(ran_done, 60000);
	assert_true(r.failed);
	assert_int_equal(r.err.code, PD_INTERNAL);
	assert_non_null(strstr(r.err.msg, "killed by signal 15"));
	free(r.out);
}

static void test_runcmd_timeout_kills(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	assert_non_null(start_sh(&r, "sleep 30; echo late", NULL, 0, 1 << 20, 200, &err));
	run_loop(ran_done, 60000);
	assert_true(r.done);
	/* Killed at the limit: the code and the missing "late" say so, not a clock. */
	assert_int_equal(r.err.code, PD_DEADLINE_EXCEEDED);
	assert_non_null(strstr(r.err.msg, "did not finish within 200 ms"));
	assert_string_equal(r.out, "");
	free(r.out);
}

/* A background grandchild keeps stdout open: the answer still comes when sh exits. */
static void test_runcmd_grandchild_does_not_hold_answer(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	/* The grandchild outlives the loop's bound by far: an answer at all means sh's exit
	 * gave it, not the grandchild's closing of stdout. */
	assert_non_null(
	    start_sh(&r, "sleep 117.3 </dev/null & echo hi", NULL, 0, 1 << 20, 100000, &err));
	run_loop(ran_done, 60000);
	assert_true(r.done);
	assert_false(r.failed);
	assert_string_equal(r.out, "hi\n");
	free(r.out);
	assert_int_equal(system("pkill -f '^sleep 117.3$'"), 0);
}

/* Reaping is batched: one SIGCHLD reaps every child that has exited, so a run can learn of
 * its exit before the loop has seen its last output. Here A exits at once (SIGCHLD is the
 * first ready event), B writes 100 ms later and exits; the loop then sees SIGCHLD before
 * B's data: B's output must still be there. */
static void test_runcmd_output_read_at_exit(void **state)
{
	struct ran a, b;
	struct pd_error err = {0};
	assert_non_null(start_sh(&a, "exit 0", NULL, 0, 1 << 20, 10000, &err));
	assert_non_null(start_sh(&b, "sleep 0.1; echo late words", NULL, 0, 1 << 20, 10000, &err));
	struct timespec ts = {.tv_nsec = 400000000};
	nanosleep(&ts, NULL); /* both done before the loop looks */
	current = &b;
	run_loop(ran_done, 60000);
	assert_true(a.done && b.done);
	assert_false(b.failed);
	assert_string_equal(b.out, "late words\n");
	free(a.out);
	free(b.out);
}

static void test_runcmd_big_input_and_output(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	size_t n = 3u << 20; /* well past a pipe's 64 KiB in both directions */
	char *in = malloc(n);
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	assert_non_null(start_sh(&r, "cat", in, n, 4u << 20, 20000, &err));
	run_loop(ran_done, 60000);
	assert_false(r.failed);
	assert_int_equal(r.out_len, n);
	assert_memory_equal(r.out, in, n);
	free(r.out);
	free(in);
}

static void test_runcmd_output_limit(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	assert_non_null(start_sh(&r, "head -c 1048576 /dev/zero; sleep 30", NULL, 0, 1000, 20000,
				 &err));
	run_loop(ran_done, 60000);
	assert_true(r.done); /* killed at the limit, long before the sleep's end */
	assert_int_equal(r.err.code, PD_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(r.err.msg, "wrote more than 1000 bytes"));
	free(r.out);
}

static void test_runcmd_exec_failure(void **state)
{
	struct pd_error err = {0};
	const char *argv[] = {"/no/such/program", NULL};
	struct pd_runcmd_spec spec = {.argv = argv, .out_max = 100, .timeout_ms = 1000};
	struct ran r = {0};
	assert_null(pd_runcmd_start(&loop, &spec, on_done, &r, &err));
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "/no/such/program"));
	assert_int_equal(pd_runcmd_busy(), 0);
	assert_false(r.done);
}

static void test_runcmd_abandon_and_limit(void **state)
{
	struct ran r[PD_RUNCMD_MAX + 1];
	struct pd_runcmd *rc[PD_RUNCMD_MAX];
	struct pd_error err = {0};
	for (int i = 0; i < PD_RUNCMD_MAX; i++)
		assert_non_null(rc[i] = start_sh(&r[i], "sleep 600", NULL, 0, 100, 600000, &err));
	assert_int_equal(pd_runcmd_busy(), PD_RUNCMD_MAX);
	assert_null(start_sh(&r[PD_RUNCMD_MAX], "true", NULL, 0, 100, 1000, &err));
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	for (int i = 0; i < PD_RUNCMD_MAX; i++)
		pd_runcmd_abandon(rc[i]);
	run_loop(none_busy, 60000);
	assert_int_equal(pd_runcmd_busy(), 0); /* all killed and reaped, long before the sleeps end */
	for (int i = 0; i < PD_RUNCMD_MAX; i++)
		assert_false(r[i].done); /* an abandoned run never answers */
}

static void test_iptables_start_runs_the_found_program(void **state)
{
	struct ran r;
	struct pd_error err = {0};
	char path[PATH_MAX];
	/* A stand-in iptables-restore that shows its arguments and echoes its input. */
	put("usr/sbin/iptables-restore", "#!/bin/sh\necho \"args: $*\"\ncat\n");
	snprintf(path, sizeof(path), "%s/usr/sbin/iptables-restore", root);
	chmod(path, 0755);
	memset(&r, 0, sizeof(r));
	current = &r;
	assert_non_null(pd_iptables_start(&loop, root, false, true, "*filter\nCOMMIT\n", 15,
					  on_done, &r, &err));
	run_loop(ran_done, 60000);
	assert_false(r.failed);
	assert_string_equal(r.out, "args: --wait 5\n*filter\nCOMMIT\n");
	free(r.out);
	assert_null(pd_iptables_start(&loop, root, true, false, NULL, 0, on_done, &r, &err));
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_int_equal(pd_runcmd_busy(), 0);
}

/* ---- memory agent -------------------------------------------------------------------------- */

static const char *procfs(void)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/proc", root);
	return buf;
}

#define LRU   "sys/kernel/mm/lru_gen/enabled"
#define PROAC "proc/sys/vm/compaction_proactiveness"

static void test_memagent_memcg(void **state)
{
	struct pd_memagent ma, before;
	struct pd_error err = {0};
	pd_memagent_init(&ma);
	assert_int_equal(ma.memcg.swappiness_max, 50);
	assert_int_equal(ma.memcg.period_secs, 600);

	/* Only what is set changes; nothing that needs a knob was set. */
	struct pd_memcg_config v = {.period_secs = 30, .swappiness_max = 999};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_PERIOD_SECS, sysfs(), &err), 0);
	assert_int_equal(ma.memcg.period_secs, 30);
	assert_int_equal(ma.memcg.swappiness_max, 50);

	/* Bad values: nothing changes. */
	before = ma;
	v = (struct pd_memcg_config){.swappiness_max = 201, .period_secs = 5};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v,
					       PD_MEMCG_SWAPPINESS_MAX | PD_MEMCG_PERIOD_SECS,
					       sysfs(), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "swappiness_max 201"));
	v = (struct pd_memcg_config){.eviction_psi_percent_limit = 101};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_EVICTION_PSI, sysfs(), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	v = (struct pd_memcg_config){.period_secs = 0};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_PERIOD_SECS, sysfs(), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_memory_equal(&ma, &before, sizeof(ma));

	/* Enabling needs MGLRU: absent here. */
	v = (struct pd_memcg_config){.disabled = false, .swap = true};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_DISABLED | PD_MEMCG_SWAP,
					       sysfs(), &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "CONFIG_LRU_GEN"));
	assert_false(ma.memcg.swap);
	/* Disabling needs nothing. */
	v = (struct pd_memcg_config){.disabled = true};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_DISABLED, sysfs(), &err), 0);
	assert_true(ma.memcg.disabled);

	/* With MGLRU off: turned on. */
	put(LRU, "0x0000\n");
	v = (struct pd_memcg_config){.disabled = false, .swap = true};
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_DISABLED | PD_MEMCG_SWAP,
					       sysfs(), &err), 0);
	assert_string_equal(get(LRU), "7");
	assert_false(ma.memcg.disabled);
	assert_true(ma.memcg.swap);
	/* Already fully on: left alone. */
	put(LRU, "0x0007\n");
	assert_int_equal(pd_memagent_memcg_set(&ma, &v, PD_MEMCG_DISABLED, sysfs(), &err), 0);
	assert_string_equal(get(LRU), "0x0007\n");
}

static void test_memagent_compact(void **state)
{
	struct pd_memagent ma, before;
	struct pd_error err = {0};
	pd_memagent_init(&ma);
	assert_int_equal(ma.compact.compact_order, 9);

	/* No proactive compaction in this kernel: fine unless `disabled` is set. */
	struct pd_compact_config v = {.compact_order = 4, .compact_threshold = 77,
				      .compact_sec_max = 10};
	assert_int_equal(pd_memagent_compact_set(&ma, &v,
						 PD_COMPACT_ORDER | PD_COMPACT_THRESHOLD |
							 PD_COMPACT_SEC_MAX,
						 procfs(), &err), 0);
	assert_int_equal(ma.compact.compact_order, 4);
	assert_int_equal(ma.compact.compact_threshold, 77);
	assert_int_equal(ma.compact.compact_sec_max, 10);
	before = ma;
	v = (struct pd_compact_config){.disabled = true, .compact_order = 5};
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_DISABLED | PD_COMPACT_ORDER,
						 procfs(), &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "compaction_proactiveness"));
	assert_memory_equal(&ma, &before, sizeof(ma));

	/* Bad values. */
	v = (struct pd_compact_config){.compact_sec_max = -1};
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_SEC_MAX, procfs(), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	v = (struct pd_compact_config){.compact_order = 256};
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_ORDER, procfs(), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	v = (struct pd_compact_config){.compact_psi_percent_limit = 101};
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_PSI, procfs(), &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_memory_equal(&ma, &before, sizeof(ma));

	/* With the knob: off is 0, on is the kernel's default. */
	put(PROAC, "20\n");
	v = (struct pd_compact_config){.disabled = true};
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_DISABLED, procfs(), &err), 0);
	assert_string_equal(get(PROAC), "0");
	assert_true(ma.compact.disabled);
	v.disabled = false;
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_DISABLED, procfs(), &err), 0);
	assert_string_equal(get(PROAC), PD_COMPACTION_PROACTIVENESS_ON);
	assert_false(ma.compact.disabled);
	/* Not set: not touched. */
	put(PROAC, "55\n");
	v = (struct pd_compact_config){.period_secs = 9};
	assert_int_equal(pd_memagent_compact_set(&ma, &v, PD_COMPACT_PERIOD_SECS, procfs(), &err),
			 0);
	assert_string_equal(get(PROAC), "55\n");
	assert_int_equal(ma.compact.period_secs, 9);
}

/* ---- kernel files -------------------------------------------------------------------------- */

static void test_kfile(void **state)
{
	char path[PATH_MAX], buf[8];
	struct pd_error err = {0};
	assert_int_equal(pd_kpath(path, sizeof(path), &err, root, "/%s", "x"), 0);
	assert_int_equal(pd_kpath(path, 8, &err, root, "/%s", "x"), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	put("short", "1234567");
	put("long", "12345678");
	snprintf(path, sizeof(path), "%s/short", root);
	assert_int_equal(pd_kfile_read(path, buf, sizeof(buf), &err), 7);
	assert_string_equal(buf, "1234567");
	snprintf(path, sizeof(path), "%s/long", root);
	assert_int_equal(pd_kfile_read(path, buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, PD_INTERNAL);
	assert_int_equal(pd_kfile_write(path, "ab", &err), 0);
	assert_string_equal(get("long"), "ab");
	snprintf(path, sizeof(path), "%s/none", root);
	assert_int_equal(pd_kfile_write(path, "1", &err), -1); /* never created */
	assert_int_equal(err.code, PD_NOT_FOUND);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_root, teardown_root)
#define L(fn) cmocka_unit_test_setup_teardown(fn, loop_setup, loop_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_list_count),
		T(test_cpus_online_enough_already),
		T(test_cpus_online_lowest_first),
		T(test_cpus_online_all),
		T(test_cpus_online_not_enough),
		T(test_cpus_online_without_sysfs),
		T(test_memory_online),
		T(test_memory_online_without_hotplug),
		T(test_memory_online_failure),
		cmocka_unit_test(test_block_size_parse),
		T(test_block_size_file),
		T(test_probe),
		T(test_details),
		T(test_details_storage_handlers_match_storage),
		cmocka_unit_test(test_pci_path_check),
		T(test_pci_path_to_sysfs),
		T(test_virtio_blk_at),
		T(test_blk_find),
		T(test_swap_check_path),
		T(test_swap_on_not_a_swap_area),
		T(test_volume_stats_tmpfs),
		cmocka_unit_test(test_volume_stats_bad_paths),
		cmocka_unit_test(test_time_check),
		T(test_reseed_checks),
		T(test_iptables_find),
		L(test_runcmd_stdin_to_stdout),
		L(test_runcmd_failure_status_and_stderr),
		L(test_runcmd_killed_by_signal),
		L(test_runcmd_timeout_kills),
		L(test_runcmd_grandchild_does_not_hold_answer),
		L(test_runcmd_output_read_at_exit),
		L(test_runcmd_big_input_and_output),
		L(test_runcmd_output_limit),
		L(test_runcmd_exec_failure),
		L(test_runcmd_abandon_and_limit),
		L(test_iptables_start_runs_the_found_program),
		T(test_memagent_memcg),
		T(test_memagent_compact),
		T(test_kfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
