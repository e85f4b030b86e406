/* Block io limits: v1 blkio.* (CFQ's blkio.weight, or BFQ's blkio.bfq.weight on kernels
 * without CFQ) and v2 io.* (io.bfq.weight when BFQ is the scheduler, else io.weight on its
 * 1..10000 scale; throttles in io.max). Per-device lines are commands: each write sets one
 * device and leaves the others. */
#include "cgroup_internal.h"

#include <inttypes.h>
#include <stdio.h>

bool pd_cg_has_blkio(const struct pd_resources *r)
{
	bool any = r->has_blkio_weight || r->has_blkio_leaf_weight || r->n_weight_devs;
	for (int k = 0; k < PD_THROTTLE_KINDS; k++)
		any = any || r->n_throttle[k];
	return any;
}

static const char *const v1_throttle_files[PD_THROTTLE_KINDS] = {
    [PD_THROTTLE_READ_BPS] = "blkio.throttle.read_bps_device",
    [PD_THROTTLE_WRITE_BPS] = "blkio.throttle.write_bps_device",
    [PD_THROTTLE_READ_IOPS] = "blkio.throttle.read_iops_device",
    [PD_THROTTLE_WRITE_IOPS] = "blkio.throttle.write_iops_device",
};

static int dev_line(const char *dir, const char *file, int64_t major, int64_t minor,
		    const char *prefix, uint64_t v, struct pd_error *err)
{
	char line[96];
	snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %s%" PRIu64, major, minor, prefix, v);
	return pd_cg_command(dir, file, line, err);
}

int pd_cg_v1_blkio(const char *dir, const struct pd_resources *r, struct pd_error *err)
{
	bool bfq = !pd_cg_exists(dir, "blkio.weight") && pd_cg_exists(dir, "blkio.bfq.weight");
	const char *weight = bfq ? "blkio.bfq.weight" : "blkio.weight";
	const char *weight_dev = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
	if (r->has_blkio_weight && pd_cg_write_u64(dir, weight, r->blkio_weight, err) < 0)
		return -1;
	if (r->has_blkio_leaf_weight &&
	    pd_cg_write_u64(dir, "blkio.leaf_weight", r->blkio_leaf_weight, err) < 0)
		return -1;
	for (size_t i = 0; i < r->n_weight_devs; i++) {
		const struct pd_blkio_weight_dev *d = &r->weight_devs[i];
		if (d->weight &&
		    dev_line(dir, weight_dev, d->major, d->minor, "", d->weight, err) < 0)
			return -1;
		if (d->leaf_weight && dev_line(dir, "blkio.leaf_weight_device", d->major, d->minor,
					       "", d->leaf_weight, err) < 0)
			return -1;
	}
	for (int k = 0; k < PD_THROTTLE_KINDS; k++)
		for (size_t i = 0; i < r->n_throttle[k]; i++) {
			const struct pd_blkio_throttle_dev *t = &r->throttle[k][i];
			if (dev_line(dir, v1_throttle_files[k], t->major, t->minor, "", t->rate,
				     err) < 0)
				return -1;
		}
	return 0;
}

static const char *const io_max_keys[PD_THROTTLE_KINDS] = {
    [PD_THROTTLE_READ_BPS] = "rbps",
    [PD_THROTTLE_WRITE_BPS] = "wbps",
    [PD_THROTTLE_READ_IOPS] = "riops",
    [PD_THROTTLE_WRITE_IOPS] = "wiops",
};

int pd_cg_v2_io(const char *dir, const struct pd_resources *r, struct pd_error *err)
{
	if (r->has_blkio_leaf_weight)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "a block io leaf weight needs cgroup v1");
	bool bfq = pd_cg_exists(dir, "io.bfq.weight");
	const char *file = bfq ? "io.bfq.weight" : "io.weight";
	if (r->has_blkio_weight) {
		char v[48];
		snprintf(v, sizeof(v), "default %" PRIu64,
			 bfq ? r->blkio_weight : pd_cg_blkio_to_io_weight(r->blkio_weight));
		if (pd_cg_write(dir, file, v, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->n_weight_devs; i++) {
		const struct pd_blkio_weight_dev *d = &r->weight_devs[i];
		if (d->leaf_weight)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "a block io leaf weight needs cgroup v1");
		uint64_t w = bfq ? d->weight : pd_cg_blkio_to_io_weight(d->weight);
		if (d->weight && dev_line(dir, file, d->major, d->minor, "", w, err) < 0)
			return -1;
	}
	for (int k = 0; k < PD_THROTTLE_KINDS; k++)
		for (size_t i = 0; i < r->n_throttle[k]; i++) {
			const struct pd_blkio_throttle_dev *t = &r->throttle[k][i];
			char line[96];
			if (t->rate)
				snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
					 t->major, t->minor, io_max_keys[k], t->rate);
			else /* 0 removes the limit, as writing 0 does on v1 */
				snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %s=max",
					 t->major, t->minor, io_max_keys[k]);
			if (pd_cg_command(dir, "io.max", line, err) < 0)
				return -1;
		}
	return 0;
}
