/* Block storages and devices end to end over ttRPC (agent/device/, agent/rpc/devices.c,
 * the blk/mmioblk/scsi storage drivers, AddSwap), against an agent that storage.sh starts
 * with --hotplug-timeout 2 in a mount namespace with its own /run.
 *
 *   storage ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]   (IT_EXT4_IMAGE: an ext4 image
 *                                                        holding hello.txt)
 *
 * What a host allows: bad input; waits that time out (PCI paths and names no host has);
 * and the real uevent path with loop devices this program makes itself (LOOP_CTL_ADD of a
 * free number, removed again): a CreateContainer naming /dev/loopN is sent BEFORE the
 * device exists, parks, and completes when the kernel's uevent comes. An ext4 image on a
 * loop device is mounted as an mmioblk storage and read from a container. Nothing here
 * hot-plugs PCI or SCSI disks or turns swap on: the QEMU boot test does (qemu-tests/
 * storage.sh). */
#include "itest.h"

#include <linux/loop.h>
#include <sys/ioctl.h>

/* TRY without a cleanup label: return at once. */
#define RET(expr)                                                                                  \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			return -1;                                                                 \
	} while (0)

#define STORAGE_MP "/run/kata-containers/storage-it/ext4"
#define HELLO	   "hello-from-disk\n"

/* The container must not exist: a failed or timed-out create leaves nothing behind. */
static int expect_no_container(struct it *t, const char *cid)
{
	int code = it_remove_code(t, cid);
	if (code != PD_NOT_FOUND)
		return it_why(t, "container %s: RemoveContainer gave %d, want NOT_FOUND (%s)", cid,
			      code, t->msg);
	return 0;
}

static void storage_init(Grpc__Storage *st, const char *driver, const char *source,
			 const char *fstype, const char *mp)
{
	grpc__storage__init(st);
	st->driver = (char *)driver;
	st->source = (char *)source;
	st->fstype = (char *)fstype;
	st->mount_point = (char *)mp;
}

/* A CreateContainer of the spec with one storage and/or one device; stp and devp hold
 * the pointer arrays. */
static void req_with(Grpc__CreateContainerRequest *req, const char *cid, struct it_spec *s,
		     Grpc__Storage *st, Grpc__Device *dev, Grpc__Storage **stp, Grpc__Device **devp)
{
	it_create_req(req, cid, s);
	stp[0] = st;
	devp[0] = dev;
	req->n_storages = st ? 1 : 0;
	req->storages = stp;
	req->n_devices = dev ? 1 : 0;
	req->devices = devp;
}

static int create_with(struct it *t, const char *cid, struct it_spec *s, Grpc__Storage *st,
		       Grpc__Device *dev, int want, const char *part)
{
	Grpc__CreateContainerRequest req;
	Grpc__Storage *stp[1];
	Grpc__Device *devp[1];
	req_with(&req, cid, s, st, dev, stp, devp);
	if (want == 0)
		return it_ok(t, "CreateContainer", &req.base, NULL, NULL);
	return it_code_msg(t, "CreateContainer", &req.base, want, part);
}

static void device_init(Grpc__Device *d, const char *type, const char *id, const char *vm_path,
			const char *container_path)
{
	grpc__device__init(d);
	d->type = (char *)type;
	d->id = (char *)id;
	d->vm_path = (char *)vm_path;
	d->container_path = (char *)container_path;
}

/* The spec's device entry at /dev/xdisk, with made-up host numbers. */
static void spec_xdisk(struct it_spec *s, Grpc__LinuxDevice *ld, Grpc__LinuxDevice **ldp)
{
	grpc__linux_device__init(ld);
	ld->path = "/dev/xdisk";
	ld->type = "b";
	ld->major = 259;
	ld->minor = 99;
	ld->filemode = 0660;
	ldp[0] = ld;
	s->lx.n_devices = 1;
	s->lx.devices = ldp;
}

/* Read answers on t->c until one for stream a or b comes: its stream id (its status code and
 * message in t->code, t->msg), or -1. */
static long recv_either(struct it *t, const char *what, uint32_t a, uint32_t b)
{
	struct pd_error e = {0};
	struct pd_client_reply r;
	do {
		if (pd_client_recv(&t->c, IT_CALL_MS, &r, &e) < 0)
			return it_why(t, "%s: no answer: %s", what, e.msg);
		pd_client_reply_free(&r);
	} while (r.stream_id != a && r.stream_id != b);
	t->code = r.code;
	snprintf(t->msg, sizeof(t->msg), "%s", r.message);
	return r.stream_id;
}

/* Send `method` and then a Health.Check on the same connection; the calls of one connection
 * are dispatched in order, so the first answer tells whether `method` parked (the Check
 * comes first: *parked true) or was answered at dispatch (*parked false; its status code and
 * message in t->code, t->msg). A parked call's answer is read by take_answer. */
static int send_then_check(struct it *t, const char *method, const ProtobufCMessage *req,
			   uint32_t *stream, bool *parked)
{
	Grpc__CheckRequest check = GRPC__CHECK_REQUEST__INIT;
	struct pd_error e = {0};
	uint32_t sync;
	if (pd_client_send(&t->c, IT_SERVICE, method, req, 0, stream, &e) < 0 ||
	    pd_client_send(&t->c, "grpc.Health", "Check", &check.base, 0, &sync, &e) < 0)
		return it_why(t, "send %s + Check: %s", method, e.msg);
	long first = recv_either(t, method, *stream, sync);
	if (first < 0)
		return -1;
	*parked = first == sync;
	if (!*parked) { /* the Check's answer follows */
		int code = t->code;
		char msg[sizeof(t->msg)];
		memcpy(msg, t->msg, sizeof(msg));
		if (recv_either(t, "Check", sync, sync) < 0)
			return -1;
		t->code = code;
		memcpy(t->msg, msg, sizeof(msg));
	}
	return 0;
}

/* The answer on `stream` (after send_then_check found the call parked): its status code. */
static int take_answer(struct it *t, const char *method, uint32_t stream)
{
	return recv_either(t, method, stream, stream) < 0 ? -1 : t->code;
}

/* ---- bad input ---------------------------------------------------------------------------- */

static int case_bad_input(struct it *t)
{
	struct it_spec s;
	Grpc__Storage st;
	Grpc__Device d;
	Grpc__LinuxDevice ld, *ldp[1];
	static const struct {
		const char *driver, *source, *fstype;
		int code;
		const char *part;
	} bad_st[] = {
	    {"nvme", "/dev/nvme0n1", "ext4", PD_UNIMPLEMENTED, "storage driver 'nvme'"},
	    {"blk", "zz", "ext4", PD_INVALID_ARGUMENT, "bad PCI path 'zz'"},
	    {"blk", "02/40", "ext4", PD_INVALID_ARGUMENT, "slot 64"},
	    {"mmioblk", "vdb", "ext4", PD_INVALID_ARGUMENT, "does not start with /dev/"},
	    {"scsi", "0-1", "ext4", PD_INVALID_ARGUMENT, "bad SCSI address"},
	};
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	for (size_t i = 0; i < IT_N(bad_st); i++) {
		storage_init(&st, bad_st[i].driver, bad_st[i].source, bad_st[i].fstype, STORAGE_MP);
		RET(create_with(t, "bad-storage", &s, &st, NULL, bad_st[i].code, bad_st[i].part));
		RET(expect_no_container(t, "bad-storage"));
	}
	/* Devices: an unsupported type; a container_path the spec lacks; one path twice. */
	device_init(&d, "vfio-pci", "02/01", "", "/dev/xdisk");
	RET(create_with(t, "bad-dev", &s, NULL, &d, PD_UNIMPLEMENTED, "device type 'vfio-pci'"));
	device_init(&d, "mmioblk", "", "/dev/loop0", "/dev/xdisk");
	RET(create_with(t, "bad-dev", &s, NULL, &d, PD_NOT_FOUND,
			"no linux.devices entry at "
			"/dev/xdisk"));
	spec_xdisk(&s, &ld, ldp);
	device_init(&d, "scsi", "1", "", "/dev/xdisk");
	RET(create_with(t, "bad-dev", &s, NULL, &d, PD_INVALID_ARGUMENT, "bad SCSI address"));
	RET(expect_no_container(t, "bad-dev"));
	/* AddSwap: no path, a slot out of range. */
	Grpc__AddSwapRequest sw = GRPC__ADD_SWAP_REQUEST__INIT;
	RET(it_code_msg(t, "AddSwap", &sw.base, PD_INVALID_ARGUMENT, "empty PCI path"));
	uint32_t slots[] = {2, 40};
	sw.pcipath = slots;
	sw.n_pcipath = 2;
	RET(it_code_msg(t, "AddSwap", &sw.base, PD_INVALID_ARGUMENT, "slot 40"));
	return 0;
}

/* Bad input fails at once, even after an entry that would make the call wait: answered at
 * dispatch, before a Check sent after it (an order: a wait would have parked it). */
static int fails_unparked(struct it *t, const Grpc__CreateContainerRequest *req, int want,
			  const char *part)
{
	uint32_t stream;
	bool parked;
	RET(send_then_check(t, "CreateContainer", &req->base, &stream, &parked));
	if (parked) {
		take_answer(t, "CreateContainer", stream);
		return it_why(t, "CreateContainer parked (then %s: %s), want %s at once",
			      pd_code_name(t->code), t->msg, pd_code_name(want));
	}
	if (t->code != want || !strstr(t->msg, part))
		return it_why(t, "CreateContainer: %s: '%s', want %s naming '%s'",
			      pd_code_name(t->code), t->msg, pd_code_name(want), part);
	return 0;
}

static int case_bad_input_before_wait(struct it *t)
{
	struct it_spec s;
	Grpc__Storage st[2], *stp[2] = {&st[0], &st[1]};
	Grpc__Device d[2], *dp[2] = {&d[0], &d[1]};
	Grpc__LinuxDevice ld, *ldp[1];
	Grpc__CreateContainerRequest req;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	storage_init(&st[0], "scsi", "9:9", "ext4", STORAGE_MP);
	storage_init(&st[1], "blk", "zz", "ext4", STORAGE_MP "2");
	it_create_req(&req, "bad-late", &s);
	req.n_storages = 2;
	req.storages = stp;
	RET(fails_unparked(t, &req, PD_INVALID_ARGUMENT, "bad PCI path"));
	spec_xdisk(&s, &ld, ldp);
	device_init(&d[0], "mmioblk", "", "/dev/pd-no-such-disk", "");
	device_init(&d[1], "vfio-ap", "x", "", "");
	it_create_req(&req, "bad-late", &s);
	req.n_devices = 2;
	req.devices = dp;
	RET(fails_unparked(t, &req, PD_UNIMPLEMENTED, "'vfio-ap'"));
	return expect_no_container(t, "bad-late");
}

/* ---- timeouts ----------------------------------------------------------------------------- */

/* A call for a device no one plugs in fails DEADLINE_EXCEEDED naming it after the agent's
 * hotplug timeout (2 s here): not before it (an order), and within IT_CALL_MS (a bound). */
static int timed_fail(struct it *t, const char *method, const ProtobufCMessage *req,
		      const char *part)
{
	int64_t start = it_now_ms();
	RET(it_code_msg(t, method, req, PD_DEADLINE_EXCEEDED, part));
	int64_t took = it_now_ms() - start;
	if (took < 1900)
		return it_why(t, "%s: failed after %lld ms, before its 2 s", method,
			      (long long)took);
	if (!strstr(t->msg, "within 2 s (agent.hotplug_timeout)"))
		return it_why(t, "%s: message '%s' does not name the timeout", method, t->msg);
	return 0;
}

/* A CreateContainer that waits for its disk in vain, and leaves no container behind. */
static int timed_create(struct it *t, const char *cid, struct it_spec *s, Grpc__Storage *st,
			Grpc__Device *dev, const char *part)
{
	Grpc__CreateContainerRequest req;
	Grpc__Storage *stp[1];
	Grpc__Device *devp[1];
	req_with(&req, cid, s, st, dev, stp, devp);
	RET(timed_fail(t, "CreateContainer", &req.base, part));
	return expect_no_container(t, cid);
}

static int case_timeouts(struct it *t)
{
	Grpc__AddSwapRequest sw = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t slots[] = {0x1f, 0x1f};
	sw.pcipath = slots;
	sw.n_pcipath = 2;
	RET(timed_fail(t, "AddSwap", &sw.base, "PCI path 1f/1f did not appear"));

	struct it_spec s;
	Grpc__Device d;
	Grpc__Storage st;
	Grpc__LinuxDevice ld, *ldp[1];
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	spec_xdisk(&s, &ld, ldp);
	device_init(&d, "mmioblk", "", "/dev/pd-no-such-disk", "/dev/xdisk");
	RET(timed_create(t, "timeout-dev", &s, NULL, &d, "block device pd-no-such-disk"));
	storage_init(&st, "scsi", "7:3", "ext4", STORAGE_MP);
	RET(timed_create(t, "timeout-st", &s, &st, NULL, "SCSI address 7:3"));
	/* The mount point was never made. */
	char p[PATH_MAX];
	struct stat sb;
	if (stat(it_agent_path(t, p, sizeof(p), "%s", STORAGE_MP), &sb) == 0)
		return it_why(t, "%s exists after a storage that timed out", STORAGE_MP);
	return 0;
}

/* ---- loop devices ------------------------------------------------------------------------- */

/* A loop number no one uses (no /sys/class/block/loopN), from the top down. */
static int free_loop_number(void)
{
	for (int n = 250 - (getpid() % 20); n > 100; n--) {
		char p[64];
		snprintf(p, sizeof(p), "/sys/class/block/loop%d", n);
		if (access(p, F_OK) != 0)
			return n;
	}
	return -1;
}

static int loop_ctl(unsigned long op, int n)
{
	int fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = ioctl(fd, op, n);
	close(fd);
	return rc;
}

/* Back /dev/loopN with the image, read-only. */
static int loop_attach(int n, const char *image)
{
	char dev[64];
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	int img = open(image, O_RDONLY | O_CLOEXEC);
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	int rc = img >= 0 && fd >= 0 ? ioctl(fd, LOOP_SET_FD, img) : -1;
	if (img >= 0)
		close(img);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void loop_release(int n)
{
	char dev[64];
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ioctl(fd, LOOP_CLR_FD, 0);
		close(fd);
	}
	int64_t end = 0;
	while (loop_ctl(LOOP_CTL_REMOVE, n) < 0 && errno == EBUSY && it_retry(&end))
		;
}

static const char *image(void)
{
	return getenv("IT_EXT4_IMAGE");
}

/* The device is not there when CreateContainer is sent: the call parks (a Check sent after
 * it is answered first), then /dev/loopN is made, its uevent ends the wait, the spec's entry
 * is rewritten to 7:N and the container sees that node and reads the disk through it. The
 * device is made right after the Check's answer: well within the 2 s hotplug timeout. */
static int case_device_parked_until_uevent(struct it *t)
{
	struct it_spec s;
	Grpc__Device d;
	Grpc__LinuxDevice ld, *ldp[1];
	struct it_io io = {0};
	int st = -1, rc = -1, n = free_loop_number();
	char vm[32], want[64];
	if (n < 0 || !image())
		return it_why(t, "no free loop number or no IT_EXT4_IMAGE");
	snprintf(vm, sizeof(vm), "/dev/loop%d", n);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "stat", "/dev/xdisk", NULL);
	spec_xdisk(&s, &ld, ldp);
	device_init(&d, "mmioblk", "", vm, "/dev/xdisk");
	Grpc__CreateContainerRequest req;
	Grpc__Storage *stp[1];
	Grpc__Device *devp[1];
	uint32_t stream;
	bool parked;
	req_with(&req, "dev-parked", &s, NULL, &d, stp, devp);
	TRY(send_then_check(t, "CreateContainer", &req.base, &stream, &parked));
	EXPECT(parked, "CreateContainer answered before the device existed: %s: %s",
	       pd_code_name(t->code), t->msg);
	EXPECT(loop_ctl(LOOP_CTL_ADD, n) >= 0 && loop_attach(n, image()) >= 0, "loop%d: %s", n,
	       strerror(errno));
	int code = take_answer(t, "CreateContainer", stream);
	TRY(code);
	EXPECT(code == 0, "CreateContainer: %s: %s", pd_code_name(code), t->msg);
	TRY(it_start(t, "dev-parked"));
	TRY(it_drain(t, "dev-parked", "dev-parked", false, &io, IT_IO_MS));
	TRY(it_wait(t, "dev-parked", "dev-parked", &st));
	snprintf(want, sizeof(want), "60660 7:%d\n", n);
	TRY(it_expect_out(t, "stat /dev/xdisk", &io, st, want, 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, "dev-parked", &rc);
	loop_release(n);
	return rc;
}

static bool agent_mounted(struct it *t, const char *mp)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)t->agent);
	char *text = it_read_file(p, NULL);
	char needle[PATH_MAX];
	snprintf(needle, sizeof(needle), " %s ", mp);
	bool found = text && strstr(text, needle);
	free(text);
	return found;
}

/* An ext4 disk (already there) as a storage found by its /dev name (mmioblk; nvdimm takes
 * the same path, a /dev/pmemN in a guest), mounted read-only; a container binds it and
 * reads a file; RemoveContainer unmounts it. */
static int ext4_storage(struct it *t, const char *driver)
{
	struct it_spec s;
	Grpc__Storage stg;
	struct it_io io = {0};
	int st = -1, rc = -1, n = free_loop_number();
	char vm[32];
	static char *ro_opts[] = {"ro"};
	static char *bind_opts[] = {"rbind", "ro"};
	if (n < 0 || !image())
		return it_why(t, "no free loop number or no IT_EXT4_IMAGE");
	snprintf(vm, sizeof(vm), "/dev/loop%d", n);
	if (loop_ctl(LOOP_CTL_ADD, n) < 0 || loop_attach(n, image()) < 0) {
		it_why(t, "loop%d: %s", n, strerror(errno));
		goto out;
	}
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "cat", "/data/hello.txt", NULL);
	it_spec_mount(&s, "/data", "bind", STORAGE_MP, bind_opts, IT_N(bind_opts));
	storage_init(&stg, driver, vm, "ext4", STORAGE_MP);
	stg.options = ro_opts;
	stg.n_options = 1;
	TRY(create_with(t, "ext4-st", &s, &stg, NULL, 0, NULL));
	EXPECT(agent_mounted(t, STORAGE_MP), "%s is not mounted in the agent", STORAGE_MP);
	TRY(it_start(t, "ext4-st"));
	TRY(it_drain(t, "ext4-st", "ext4-st", false, &io, IT_IO_MS));
	TRY(it_wait(t, "ext4-st", "ext4-st", &st));
	TRY(it_expect_out(t, "cat /data/hello.txt", &io, st, HELLO, 0));
	EXPECT(it_remove_code(t, "ext4-st") == 0, "RemoveContainer: %s", t->msg);
	EXPECT(!agent_mounted(t, STORAGE_MP), "%s still mounted after RemoveContainer", STORAGE_MP);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, "ext4-st", &rc);
	if (rc < 0 && t->code == PD_NOT_FOUND)
		rc = 0; /* removed above */
	loop_release(n);
	return rc;
}

static int case_ext4_storage(struct it *t) { return ext4_storage(t, "mmioblk"); }
static int case_nvdimm_storage(struct it *t) { return ext4_storage(t, "nvdimm"); }

/* A host that gives up first (its own ttRPC timeout): the wait is dropped, the agent
 * serves on, and a later call for the same device still works. */
static int case_host_gives_up_first(struct it *t)
{
	Grpc__AddSwapRequest sw = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t slots[] = {0x1e};
	sw.pcipath = slots;
	sw.n_pcipath = 1;
	struct pd_client c2 = {.fd = -1};
	RET(it_connect(t, &c2));
	/* Two waits at once, one connection closed under them. */
	uint32_t id;
	struct pd_error err;
	int rc = pd_client_send(&c2, IT_SERVICE, "AddSwap", &sw.base, 0, &id, &err);
	pd_client_close(&c2);
	if (rc < 0)
		return it_why(t, "send AddSwap on a second connection");
	return timed_fail(t, "AddSwap", &sw.base, "PCI path 1e did not appear");
}

static const struct it_case cases[] = {
    {"bad_input", case_bad_input},
    {"bad_input_before_wait", case_bad_input_before_wait},
    {"timeouts", case_timeouts},
    {"host_gives_up_first", case_host_gives_up_first},
    {"device_parked_until_uevent", case_device_parked_until_uevent},
    {"ext4_storage", case_ext4_storage},
    {"nvdimm_storage", case_nvdimm_storage},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (it_init(&t, argc, argv) < 0)
		return 1;
	/* A sandbox storage that cannot be: refused, and the sandbox is not made. */
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage st, *stp[1] = {&st};
	storage_init(&st, "scsi", "x:1", "xfs", STORAGE_MP);
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = (char *)t.sandbox;
	req.n_storages = 1;
	req.storages = stp;
	it_report(&t, "create_sandbox_bad_storage",
		  it_code_msg(&t, "CreateSandbox", &req.base, PD_INVALID_ARGUMENT,
			      "bad SCSI address 'x:1'"));
	req.n_storages = 0;
	it_report(&t, "create_sandbox", it_ok(&t, "CreateSandbox", &req.base, NULL, NULL));
	it_run_cases(&t, cases);
	return it_finish(&t, "storage");
}
