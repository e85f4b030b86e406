/* AddSwap and AddSwapPath: swap on a file of the guest, or on a virtio-blk disk the host
 * plugged in for it, named by its PCI path ("02/01": slot 2 of the root bus is a bridge,
 * slot 1 behind it the disk). */
#include "guest.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>

#include "agent/container/validate.h"

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

int pd_pci_path_to_sysfs(const char *sysfs, const uint32_t *slots, size_t n, char *out,
			 size_t size, struct pd_error *err)
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

int pd_swap_check_path(const char *path, struct pd_error *err)
{
	struct stat st;
	if (pd_validate_abs_path(path, "swap path", NULL, NULL, err) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return pd_error_errno(err, errno, "swap path %s", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "swap path %s is neither a regular file nor a block device",
				    path);
	return 0;
}

int pd_swap_on(const char *path, struct pd_error *err)
{
	if (pd_swap_check_path(path, err) < 0)
		return -1;
	if (swapon(path, 0) == 0)
		return 0;
	int e = errno;
	if (e == ENOSYS)
		return pd_error_set(err, PD_FAILED_PRECONDITION, e,
				    "swapon %s: this guest kernel has no swap (CONFIG_SWAP)", path);
	if (e == EINVAL)
		return pd_error_set(err, PD_INVALID_ARGUMENT, e,
				    "swapon %s: not a swap area (no mkswap signature, or a file "
				    "with holes)", path);
	return pd_error_errno(err, e, "swapon %s", path);
}

int pd_swap_on_pci(const char *sysfs, const char *dev, const uint32_t *slots, size_t n,
		   struct pd_error *err)
{
	char name[64], path[PATH_MAX];
	struct stat st;
	if (pd_virtio_blk_at(sysfs, slots, n, name, sizeof(name), err) < 0 ||
	    pd_kpath(path, sizeof(path), err, dev, "/%s", name) < 0)
		return -1;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return pd_error_set(err, PD_NOT_FOUND, ENOENT, "%s is not a block device", path);
	return pd_swap_on(path, err);
}
