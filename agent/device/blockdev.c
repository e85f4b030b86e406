/* What the host names (a PCI path, a /dev name, a SCSI address) → the guest's disk, its
 * name and its device numbers, from sysfs. */
#include "blockdev.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/guest/guest.h"

static int parse_name(const char *source, struct pd_blk_want *w, struct pd_error *err)
{
	const char *name = source + 5;
	size_t len = strlen(name);
	if (len == 0 || len >= sizeof(w->name) || strchr(name, '/') || name[0] == '.')
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "bad block device '%.64s' (want /dev/<name>)", source);
	w->kind = PD_BLK_NAME;
	memcpy(w->name, name, len + 1);
	return 0;
}

static int parse_scsi(const char *source, struct pd_blk_want *w, struct pd_error *err)
{
	unsigned long t, l;
	char *end;
	const char *colon = strchr(source, ':');
	bool ok =
	    colon && source[0] >= '0' && source[0] <= '9' && colon[1] >= '0' && colon[1] <= '9';
	if (ok) {
		t = strtoul(source, &end, 10);
		ok = end == colon && t <= PD_SCSI_ID_MAX;
		l = strtoul(colon + 1, &end, 10);
		ok = ok && !*end && l <= PD_SCSI_ID_MAX;
	}
	if (!ok)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "bad SCSI address '%.64s' (want target:lun)", source);
	w->kind = PD_BLK_SCSI;
	w->target = (unsigned)t;
	w->lun = (unsigned)l;
	return 0;
}

int pd_blk_want_parse(const char *kind, const char *source, struct pd_blk_want *w,
		      struct pd_error *err)
{
	memset(w, 0, sizeof(*w));
	source = source ? source : "";
	bool dev = strncmp(source, "/dev/", 5) == 0;
	if (strcmp(kind, "blk") == 0) {
		if (dev)
			return parse_name(source, w, err);
		w->kind = PD_BLK_PCI;
		return pd_pci_path_parse(source, w->slots, &w->n_slots, err);
	}
	if (strcmp(kind, "mmioblk") == 0) {
		if (!dev)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "mmioblk source '%.64s' does not start with /dev/",
					    source);
		return parse_name(source, w, err);
	}
	if (strcmp(kind, "scsi") == 0)
		return parse_scsi(source, w, err);
	return pd_error_set(err, PD_UNIMPLEMENTED, 0, "block device type '%.32s' is not supported",
			    kind);
}

void pd_blk_want_text(const struct pd_blk_want *w, char *buf, size_t size)
{
	size_t o;
	switch (w->kind) {
	case PD_BLK_PCI:
		o = (size_t)snprintf(buf, size, "PCI path ");
		for (size_t i = 0; i < w->n_slots && o + 4 < size; i++)
			o += (size_t)snprintf(buf + o, size - o, "%s%02x", i ? "/" : "",
					      w->slots[i]);
		break;
	case PD_BLK_NAME:
		snprintf(buf, size, "block device %s", w->name);
		break;
	case PD_BLK_SCSI:
		snprintf(buf, size, "SCSI address %u:%u", w->target, w->lun);
		break;
	}
}

int pd_blk_parse_devnum(const char *text, unsigned *major, unsigned *minor)
{
	char nl;
	int n = sscanf(text, "%u:%u%c", major, minor, &nl);
	return n == 2 || (n == 3 && nl == '\n') ? 0 : -1;
}

/* "H:C:T:L" entries of <sysfs>/bus/scsi/devices with channel 0, our target and LUN: the
 * disk under the one that matches. Two hosts with the same address are refused (which
 * disk the host meant cannot be told). */
static int scsi_disk(const char *sysfs, const struct pd_blk_want *w, char *name, size_t size,
		     struct pd_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (pd_kpath(dir, sizeof(dir), err, sysfs, "/bus/scsi/devices") < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return pd_error_set(err, PD_NOT_FOUND, errno, "no SCSI bus (%s)", dir);
	struct dirent *e;
	int found = 0;
	while ((e = readdir(d))) {
		unsigned h, c, t, l;
		char end;
		if (sscanf(e->d_name, "%u:%u:%u:%u%c", &h, &c, &t, &l, &end) != 4 || c != 0 ||
		    t != w->target || l != w->lun)
			continue;
		snprintf(path, sizeof(path), "%s/%s/block", dir, e->d_name);
		DIR *b = opendir(path);
		struct dirent *be;
		while (b && (be = readdir(b)))
			if (be->d_name[0] != '.' && strlen(be->d_name) < size) {
				found += found == 0 || strcmp(name, be->d_name) != 0;
				snprintf(name, size, "%s", be->d_name);
				break;
			}
		if (b)
			closedir(b);
	}
	closedir(d);
	if (found > 1)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "SCSI address %u:%u is on more than one SCSI host", w->target,
				    w->lun);
	return found ? 0
		     : pd_error_set(err, PD_NOT_FOUND, ENOENT, "no disk at SCSI address %u:%u",
				    w->target, w->lun);
}

int pd_blk_find(const char *sysfs, const struct pd_blk_want *w, struct pd_blk_found *f,
		struct pd_error *err)
{
	char path[PATH_MAX], text[32];
	int rc = 0;
	memset(f, 0, sizeof(*f));
	if (w->kind == PD_BLK_PCI)
		rc = pd_virtio_blk_at(sysfs, w->slots, w->n_slots, f->name, sizeof(f->name), err);
	else if (w->kind == PD_BLK_SCSI)
		rc = scsi_disk(sysfs, w, f->name, sizeof(f->name), err);
	else
		snprintf(f->name, sizeof(f->name), "%s", w->name);
	if (rc < 0 || pd_kpath(path, sizeof(path), err, sysfs, "/class/block/%s/dev", f->name) < 0)
		return -1;
	if (!pd_kfile_exists(path))
		return pd_error_set(err, PD_NOT_FOUND, ENOENT, "no block device %s", f->name);
	if (pd_kfile_read(path, text, sizeof(text), err) < 0)
		return -1;
	if (pd_blk_parse_devnum(text, &f->major, &f->minor) < 0)
		return pd_error_set(err, PD_INTERNAL, 0, "%s: '%s' is not MAJOR:MINOR", path, text);
	return 0;
}
