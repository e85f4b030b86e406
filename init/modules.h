/* Kernel modules: the list the initrd ships (/etc/pidone/modules), and modules asked for by
 * name (CreateSandbox.kernel_modules). Loading is finit_module(2): no modprobe in the VM. */
#ifndef PD_INIT_MODULES_H
#define PD_INIT_MODULES_H

#include <stddef.h>

#include "agent/error.h"

#define PD_MODULES_LIST "/etc/pidone/modules"

/* One entry of the list file: "/abs/path/to/mod.ko [param=value ...]". Pointers into the
 * parsed line; params is "" when there are none. */
struct pd_module_entry {
	const char *path;
	const char *params;
};

/* Parse one line in place. Returns 1 for an entry, 0 for a blank line or a comment (first
 * non-blank character '#'), -1 (err set) when the path is not absolute. */
int pd_modules_parse_line(char *line, struct pd_module_entry *e, struct pd_error *err);

/* finit_module(path, params); a module that is already loaded is success. Compressed
 * modules (.ko.xz/.zst/.gz) are handed to the kernel to decompress. */
int pd_module_load(const char *path, const char *params, struct pd_error *err);

/* Load every module of the list file in order; each failure is logged (warn) and the next
 * tried. Returns the number that failed, or -1 (err set) when the list cannot be opened. */
int pd_modules_load_file(const char *list, struct pd_error *err);

/* Resolve a module name ("virtio_console", '-' and '_' equal) under moddir: first by
 * moddir/modules.dep, then modules.builtin, then by walking the tree for name.ko[.xz|.zst|.gz].
 * Returns 1 with the absolute path in path, 0 if the module is built into the kernel,
 * -1 (err NOT_FOUND / INVALID_ARGUMENT) otherwise. */
int pd_module_find(const char *moddir, const char *name, char *path, size_t len,
		   struct pd_error *err);

/* Load a module by name from /lib/modules/$(uname -r), its modules.dep dependencies first.
 * name and params come from the host: the name must be [A-Za-z0-9_-]{1,55}. A module already
 * loaded or built in is success (params are then not applied). */
int pd_module_load_by_name(const char *name, const char *params, struct pd_error *err);

#endif
