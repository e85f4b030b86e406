/* PCI paths: from the host's "02/01" to the sysfs directory of the device, and to the
 * virtio-blk disk on it. */
#include "blockdev.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/guest/guest.h"

#define ROOT_BUS "0000:00"

int pd_pci_path_check(const uint32_t *slots, size_t n, struct pd_error *err)
{
	if (n == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "empty PCI path");
	if (n > PD_PCI_PATH_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "PCI path of %zu slots (at most %u)", n, PD_PCI_PATH_MAX);
	for (size_t i = 0; i < n; i++)
		if (slots[i] > PD_PCI_SLOT_MAX)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "PCI path element %zu: slot %u is not in 0..%u", i,
					    slots[i], PD_PCI_SLOT_MAX);
	return 0;
}

/* "0000:01" */
static bool is_bus_name(const char *s)
{
	unsigned dom, bus;
	char end;
	return strlen(s) == 7 && s[4] == ':' && sscanf(s, "%4x:%2x%c", &dom, &bus, &end) == 2;
}

/* "0000:01:01.0": a device; its bus goes to bus[8]. */
static bool device_bus(const char *s, char bus[8])
{
	unsigned dom, b, slot, fn;
	char end;
	if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.' ||
	    sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &b, &slot, &fn, &end) != 4)
		return false;
	snprintf(bus, 8, "%.7s", s);
	return true;
}

/* The bus behind a bridge: its pci_bus/ entry, or else the bus of a device below it. */
static int bridge_bus(const char *bridge, char bus[8], struct pd_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pci_bus", bridge);
	DIR *d = opendir(path);
	bool by_child = !d;
	if (!d && !(d = opendir(bridge)))
		return pd_error_errno(err, errno, "no PCI device at %s", bridge);
	struct dirent *e;
	int rc = pd_error_set(err, PD_NOT_FOUND, 0, "no bus behind PCI bridge %s", bridge);
	while ((e = readdir(d))) {
		if (by_child ? device_bus(e->d_name, bus) : is_bus_name(e->d_name)) {
			if (!by_child)
				snprintf(bus, 8, "%s", e->d_name);
			rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

int pd_pci_path_to_sysfs(const char *sysfs, const uint32_t *slots, size_t n, char *out, size_t size,
			 struct pd_error *err)
{
	char bus[8] = ROOT_BUS;
	if (pd_pci_path_check(slots, n, err) < 0 ||
	    pd_kpath(out, size, err, sysfs, "/devices/pci" ROOT_BUS) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(out);
		int w = snprintf(out + len, size - len, "/%s:%02x.0", bus, slots[i]);
		if (w < 0 || (size_t)w >= size - len)
			return pd_error_errno(err, ENAMETOOLONG, "PCI path");
		if (i + 1 < n && bridge_bus(out, bus, err) < 0)
			return -1;
	}
	if (!pd_kfile_exists(out))
		return pd_error_set(err, PD_NOT_FOUND, ENOENT, "no PCI device at %s", out);
	return 0;
}

static void pci_path_text(const uint32_t *slots, size_t n, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 4 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%02x", i ? "/" : "", slots[i]);
}

/* The first entry of <dev>/virtioN/block/: the disk's name. */
static int disk_of(const char *devdir, char *name, size_t size)
{
	DIR *d = opendir(devdir);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = -1;
	while (rc < 0 && (e = readdir(d))) {
		unsigned idx;
		char end;
		if (sscanf(e->d_name, "virtio%u%c", &idx, &end) != 1)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s/block", devdir, e->d_name);
		DIR *b = opendir(path);
		struct dirent *be;
		while (b && (be = readdir(b)))
			if (be->d_name[0] != '.' && strlen(be->d_name) < size) {
				snprintf(name, size, "%s", be->d_name);
				rc = 0;
				break;
			}
		if (b)
			closedir(b);
	}
	closedir(d);
	return rc;
}

int pd_virtio_blk_at(const char *sysfs, const uint32_t *slots, size_t n, char *name, size_t size,
		     struct pd_error *err)
{
	char dir[PATH_MAX], text[64];
	if (pd_pci_path_to_sysfs(sysfs, slots, n, dir, sizeof(dir), err) < 0)
		return -1;
	if (disk_of(dir, name, size) < 0) {
		pci_path_text(slots, n, text, sizeof(text));
		return pd_error_set(err, PD_NOT_FOUND, ENOENT,
				    "no virtio-blk disk at PCI path %s (%s)", text, dir);
	}
	return 0;
}

int pd_pci_path_parse(const char *text, uint32_t *slots, size_t *n, struct pd_error *err)
{
	const char *p = text ? text : "";
	*n = 0;
	while (*p) {
		char *end;
		if (*n == PD_PCI_PATH_MAX || p[0] < '0' ||
		    (p[0] > '9' && !strchr("abcdefABCDEF", p[0])))
			break;
		unsigned long v = strtoul(p, &end, 16);
		if (end - p > 2 || (*end && *end != '/') || (*end == '/' && !end[1]))
			break;
		slots[(*n)++] = (uint32_t)v;
		p = *end ? end + 1 : end;
	}
	if (*p || *n == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "bad PCI path '%.64s' (want hex slots like 02/01)",
				    text ? text : "");
	return pd_pci_path_check(slots, *n, err);
}
