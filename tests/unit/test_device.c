/* Hot-plugged block devices (agent/device/, agent/rpc/devices.c): the uevent record parser
 * and matcher, PCI path / SCSI address / device name parsing, and the rewrite of a spec's
 * device numbers and cgroup rules from the host's to the guest's. The sysfs lookups run
 * against a fake tree in test_guest.c (test_blk_find). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "agent/device/blockdev.h"
#include "agent/device/uevent.h"
#include "agent/rpc/devices.h"

/* A record as the kernel sends it: fields separated by NULs. */
static size_t record(char *buf, size_t size, const char *const *fields)
{
	size_t o = 0;
	for (; *fields; fields++) {
		size_t n = strlen(*fields) + 1;
		assert_true(o + n <= size);
		memcpy(buf + o, *fields, n);
		o += n;
	}
	return o;
}

static void test_uevent_parse(void **state)
{
	char buf[1024];
	struct pd_uevent ev;
	const char *disk[] = {
	    "add@/devices/pci0000:00/0000:00:02.0/0000:01:00.0/virtio3/block/vdb",
	    "ACTION=add",
	    "DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:01:00.0/virtio3/block/vdb",
	    "SUBSYSTEM=block",
	    "MAJOR=254",
	    "MINOR=16",
	    "DEVNAME=vdb",
	    "DEVTYPE=disk",
	    "DISKSEQ=9",
	    "SEQNUM=1234",
	    NULL};
	size_t n = record(buf, sizeof(buf), disk);
	assert_int_equal(pd_uevent_parse(buf, n, &ev), 0);
	assert_string_equal(ev.action, "add");
	assert_string_equal(ev.subsystem, "block");
	assert_string_equal(ev.devname, "vdb");
	assert_true(ev.has_devnum);
	assert_int_equal(ev.major, 254);
	assert_int_equal(ev.minor, 16);
	assert_non_null(strstr(ev.devpath, "/virtio3/block/vdb"));

	/* A record without numbers (a PCI device) still parses. */
	const char *pci[] = {"add@/devices/pci0000:00/0000:00:02.0", "ACTION=add",
			     "DEVPATH=/devices/pci0000:00/0000:00:02.0", "SUBSYSTEM=pci", NULL};
	n = record(buf, sizeof(buf), pci);
	assert_int_equal(pd_uevent_parse(buf, n, &ev), 0);
	assert_false(ev.has_devnum);
	assert_string_equal(ev.devname, "");

	/* Not the kernel's: libudev's header; no '@' in the header. */
	const char *udev[] = {"libudev", "ACTION=add", "DEVPATH=/x", "SUBSYSTEM=block", NULL};
	n = record(buf, sizeof(buf), udev);
	assert_int_equal(pd_uevent_parse(buf, n, &ev), -1);
	/* Missing SUBSYSTEM; a field cut short (no NUL); a DEVPATH too long. */
	const char *nosub[] = {"add@/x", "ACTION=add", "DEVPATH=/x", NULL};
	n = record(buf, sizeof(buf), nosub);
	assert_int_equal(pd_uevent_parse(buf, n, &ev), -1);
	n = record(buf, sizeof(buf), disk);
	assert_int_equal(pd_uevent_parse(buf, n - 1, &ev), -1);
	char longpath[400] = "DEVPATH=/";
	memset(longpath + 9, 'a', 300);
	const char *toolong[] = {"add@/x", "ACTION=add", longpath, "SUBSYSTEM=block", NULL};
	n = record(buf, sizeof(buf), toolong);
	assert_int_equal(pd_uevent_parse(buf, n, &ev), -1);
	assert_int_equal(pd_uevent_parse(buf, 0, &ev), -1);
	/* A bad number: no device numbers. */
	const char *badnum[] = {"add@/x",   "ACTION=add", "DEVPATH=/x", "SUBSYSTEM=block",
				"MAJOR=8x", "MINOR=1",	  NULL};
	n = record(buf, sizeof(buf), badnum);
	assert_int_equal(pd_uevent_parse(buf, n, &ev), 0);
	assert_false(ev.has_devnum);
}

static struct pd_uevent ev_of(const char *action, const char *subsystem, const char *devpath)
{
	struct pd_uevent ev = {0};
	snprintf(ev.action, sizeof(ev.action), "%s", action);
	snprintf(ev.subsystem, sizeof(ev.subsystem), "%s", subsystem);
	snprintf(ev.devpath, sizeof(ev.devpath), "%s", devpath);
	return ev;
}

static void test_uevent_matches(void **state)
{
	struct pd_blk_want pci, name, scsi;
	struct pd_error err = {0};
	assert_int_equal(pd_blk_want_parse("blk", "02/00", &pci, &err), 0);
	assert_int_equal(pd_blk_want_parse("mmioblk", "/dev/vdb", &name, &err), 0);
	assert_int_equal(pd_blk_want_parse("scsi", "0:1", &scsi, &err), 0);
	struct pd_uevent vd = ev_of(
	    "add", "block", "/devices/pci0000:00/0000:00:02.0/0000:01:00.0/virtio3/block/vdb");
	struct pd_uevent sd = ev_of("add", "block",
				    "/devices/pci0000:00/0000:00:03.0/virtio1/host0/target0:0:0/"
				    "0:0:0:1/block/sda");
	assert_true(pd_uevent_matches(&vd, &pci));
	assert_true(pd_uevent_matches(&vd, &name));
	assert_false(pd_uevent_matches(&vd, &scsi));
	assert_true(pd_uevent_matches(&sd, &scsi));
	assert_false(pd_uevent_matches(&sd, &name));
	/* A partition, a removal, another subsystem, a name that only starts the same. */
	struct pd_uevent part =
	    ev_of("add", "block", "/devices/virtio-mmio/virtio0/block/vdb/vdb1");
	assert_false(pd_uevent_matches(&part, &name));
	struct pd_uevent rm = vd;
	snprintf(rm.action, sizeof(rm.action), "remove");
	assert_false(pd_uevent_matches(&rm, &pci));
	struct pd_uevent net =
	    ev_of("add", "net", "/devices/pci0000:00/0000:00:04.0/virtio2/net/eth1");
	assert_false(pd_uevent_matches(&net, &pci));
	struct pd_uevent vdbb = ev_of("add", "block", "/devices/virtio-mmio/virtio0/block/vdbb");
	assert_false(pd_uevent_matches(&vdbb, &name));
	/* LUN 11 is not LUN 1. */
	struct pd_uevent lun11 =
	    ev_of("add", "block", "/devices/x/host0/target0:0:0/0:0:0:11/block/sdc");
	assert_false(pd_uevent_matches(&lun11, &scsi));
}

static void test_want_parse(void **state)
{
	struct pd_blk_want w;
	struct pd_error err = {0};
	char text[64];
	assert_int_equal(pd_blk_want_parse("blk", "02/1f", &w, &err), 0);
	assert_int_equal(w.kind, PD_BLK_PCI);
	assert_int_equal(w.n_slots, 2);
	assert_int_equal(w.slots[1], 31);
	pd_blk_want_text(&w, text, sizeof(text));
	assert_string_equal(text, "PCI path 02/1f");
	assert_int_equal(pd_blk_want_parse("blk", "/dev/vdc", &w, &err), 0);
	assert_int_equal(w.kind, PD_BLK_NAME);
	pd_blk_want_text(&w, text, sizeof(text));
	assert_string_equal(text, "block device vdc");
	assert_int_equal(pd_blk_want_parse("scsi", "3:12", &w, &err), 0);
	pd_blk_want_text(&w, text, sizeof(text));
	assert_string_equal(text, "SCSI address 3:12");

	static const struct {
		const char *kind, *source;
		int code;
		const char *msg;
	} bad[] = {
	    {"blk", "", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "02/", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "/02", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "002", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "02//01", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "zz", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "20", PD_INVALID_ARGUMENT, "slot 32"},
	    {"blk", "01/01/01/01/01/01/01/01/01", PD_INVALID_ARGUMENT, "bad PCI path"},
	    {"blk", "/dev/", PD_INVALID_ARGUMENT, "bad block device"},
	    {"blk", "/dev/../sda", PD_INVALID_ARGUMENT, "bad block device"},
	    {"mmioblk", "vdb", PD_INVALID_ARGUMENT, "does not start with /dev/"},
	    {"mmioblk", "/dev/a/b", PD_INVALID_ARGUMENT, "bad block device"},
	    {"scsi", "1", PD_INVALID_ARGUMENT, "bad SCSI address"},
	    {"scsi", "1:", PD_INVALID_ARGUMENT, "bad SCSI address"},
	    {"scsi", ":1", PD_INVALID_ARGUMENT, "bad SCSI address"},
	    {"scsi", "1:2:3", PD_INVALID_ARGUMENT, "bad SCSI address"},
	    {"scsi", "-1:2", PD_INVALID_ARGUMENT, "bad SCSI address"},
	    {"scsi", "99999:0", PD_INVALID_ARGUMENT, "bad SCSI address"},
	    {"vfio-pci", "02/01", PD_UNIMPLEMENTED, "'vfio-pci' is not supported"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.code = 0;
		err.msg[0] = '\0';
		if (pd_blk_want_parse(bad[i].kind, bad[i].source, &w, &err) != -1 ||
		    err.code != bad[i].code || !strstr(err.msg, bad[i].msg))
			fail_msg("%s '%s': code %d msg '%s'", bad[i].kind, bad[i].source, err.code,
				 err.msg);
	}
	unsigned ma, mi;
	assert_int_equal(pd_blk_parse_devnum("8:16\n", &ma, &mi), 0);
	assert_int_equal(mi, 16);
	assert_int_equal(pd_blk_parse_devnum("8:16", &ma, &mi), 0);
	assert_int_equal(pd_blk_parse_devnum("8:16x", &ma, &mi), -1);
	assert_int_equal(pd_blk_parse_devnum("8", &ma, &mi), -1);
}

/* ---- the spec rewrite ----------------------------------------------------------------- */

struct fake_spec {
	Grpc__Spec spec;
	Grpc__Linux linux_;
	Grpc__LinuxResources res;
	Grpc__LinuxDevice dev[2], *devp[2];
	Grpc__LinuxDeviceCgroup rule[4], *rulep[4];
	Grpc__Device msg[2], *msgp[2];
};

/* Spec: /dev/xda (b 8:0) and /dev/xdb (b 254:16); rules: deny all, allow b 8:0, allow
 * c 8:0 (a char device, untouched), allow b 254:16. Devices: xda → guest 254:16 and
 * xdb → guest 8:0: the host and guest numbers cross. */
static void fake_spec(struct fake_spec *f)
{
	memset(f, 0, sizeof(*f));
	f->spec = (Grpc__Spec)GRPC__SPEC__INIT;
	f->linux_ = (Grpc__Linux)GRPC__LINUX__INIT;
	f->res = (Grpc__LinuxResources)GRPC__LINUX_RESOURCES__INIT;
	const char *paths[2] = {"/dev/xda", "/dev/xdb"};
	int64_t maj[2] = {8, 254}, min[2] = {0, 16};
	for (int i = 0; i < 2; i++) {
		f->dev[i] = (Grpc__LinuxDevice)GRPC__LINUX_DEVICE__INIT;
		f->dev[i].path = (char *)paths[i];
		f->dev[i].type = (char *)"b";
		f->dev[i].major = maj[i];
		f->dev[i].minor = min[i];
		f->devp[i] = &f->dev[i];
		f->msg[i] = (Grpc__Device)GRPC__DEVICE__INIT;
		f->msg[i].id = (char *)(i ? "02/02" : "02/01");
		f->msg[i].type = (char *)"blk";
		f->msg[i].container_path = (char *)paths[i];
		f->msgp[i] = &f->msg[i];
	}
	const char *types[4] = {"a", "b", "c", "b"};
	int64_t rmaj[4] = {-1, 8, 8, 254}, rmin[4] = {-1, 0, 0, 16};
	for (int i = 0; i < 4; i++) {
		f->rule[i] = (Grpc__LinuxDeviceCgroup)GRPC__LINUX_DEVICE_CGROUP__INIT;
		f->rule[i].allow = i > 0;
		f->rule[i].type = (char *)types[i];
		f->rule[i].major = rmaj[i];
		f->rule[i].minor = rmin[i];
		f->rule[i].access = (char *)"rwm";
		f->rulep[i] = &f->rule[i];
	}
	f->res.n_devices = 4;
	f->res.devices = f->rulep;
	f->linux_.resources = &f->res;
	f->linux_.n_devices = 2;
	f->linux_.devices = f->devp;
	f->spec.linux_ = &f->linux_;
}

static void test_devices_rewrite(void **state)
{
	struct fake_spec f;
	struct pd_error err = {0};
	fake_spec(&f);
	struct pd_blk_found found[2] = {{"vdb", 254, 16}, {"vdc", 8, 0}};
	assert_int_equal(pd_rpc_devices_rewrite(&f.spec, f.msgp, 2, found, &err), 0);
	assert_int_equal(f.dev[0].major, 254);
	assert_int_equal(f.dev[0].minor, 16);
	assert_int_equal(f.dev[1].major, 8);
	assert_int_equal(f.dev[1].minor, 0);
	/* Each rule moved once: b 8:0 → 254:16 and b 254:16 → 8:0, not back again. */
	assert_int_equal(f.rule[1].major, 254);
	assert_int_equal(f.rule[1].minor, 16);
	assert_int_equal(f.rule[3].major, 8);
	assert_int_equal(f.rule[3].minor, 0);
	assert_int_equal(f.rule[2].major, 8); /* char 8:0 is another device */
	assert_int_equal(f.rule[0].major, -1);
}

static void test_devices_rewrite_bad(void **state)
{
	struct fake_spec f;
	struct pd_error err = {0};
	struct pd_blk_found found[2] = {{"vdb", 254, 16}, {"vdc", 8, 0}};
	/* A container_path the spec does not have: nothing changes. */
	fake_spec(&f);
	f.msg[1].container_path = (char *)"/dev/nope";
	assert_int_equal(pd_rpc_devices_rewrite(&f.spec, f.msgp, 2, found, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no linux.devices entry at /dev/nope"));
	assert_int_equal(f.dev[0].major, 8);
	assert_int_equal(f.rule[1].major, 8);
	/* Two devices for one path. */
	fake_spec(&f);
	f.msg[1].container_path = (char *)"/dev/xda";
	assert_int_equal(pd_rpc_devices_rewrite(&f.spec, f.msgp, 2, found, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	/* No container_path: only waited for, nothing rewritten. */
	fake_spec(&f);
	f.msg[0].container_path = (char *)"";
	f.msg[1].container_path = (char *)"";
	assert_int_equal(pd_rpc_devices_rewrite(&f.spec, f.msgp, 2, found, &err), 0);
	assert_int_equal(f.dev[0].major, 8);
	/* A spec without linux: a path cannot be found. */
	fake_spec(&f);
	f.spec.linux_ = NULL;
	assert_int_equal(pd_rpc_devices_rewrite(&f.spec, f.msgp, 1, found, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
}

static void test_device_want(void **state)
{
	Grpc__Device d = GRPC__DEVICE__INIT;
	struct pd_blk_want w;
	struct pd_error err = {0};
	d.type = (char *)"blk";
	d.id = (char *)"03";
	assert_int_equal(pd_rpc_device_want(&d, &w, &err), 0);
	assert_int_equal(w.kind, PD_BLK_PCI);
	d.id = (char *)"";
	d.vm_path = (char *)"/dev/vdd";
	assert_int_equal(pd_rpc_device_want(&d, &w, &err), 0);
	assert_int_equal(w.kind, PD_BLK_NAME);
	d.type = (char *)"nvdimm";
	d.vm_path = (char *)"/dev/pmem0";
	assert_int_equal(pd_rpc_device_want(&d, &w, &err), 0);
	assert_string_equal(w.name, "pmem0");
	d.type = (char *)"scsi";
	d.id = (char *)"0:2";
	assert_int_equal(pd_rpc_device_want(&d, &w, &err), 0);
	assert_int_equal(w.lun, 2);
	d.type = (char *)"vfio-pci";
	assert_int_equal(pd_rpc_device_want(&d, &w, &err), -1);
	assert_int_equal(err.code, PD_UNIMPLEMENTED);
	assert_non_null(strstr(err.msg, "'vfio-pci'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uevent_parse),	cmocka_unit_test(test_uevent_matches),
	    cmocka_unit_test(test_want_parse),		cmocka_unit_test(test_devices_rewrite),
	    cmocka_unit_test(test_devices_rewrite_bad), cmocka_unit_test(test_device_want),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
