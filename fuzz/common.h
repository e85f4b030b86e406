/* What every fuzz target may use (fuzz/common_*.c is linked into each). */
#ifndef PD_FUZZ_COMMON_H
#define PD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifndef PD_FUZZ_SEEDS
#error "PD_FUZZ_SEEDS: the hand-made seed files (fuzz/seeds)"
/* Box the target in (common_isolate.c): own namespaces, the host's mounts read-only but for
 * libFuzzer's output directories in argv, a tmpfs on /run, machine-wide capabilities
 * dropped. Exits when it cannot (not root). The calls are the caller's: a target that wraps
 * mount or unshare passes the real ones. */
struct fz_sys {
	int (*mount)(const char *, const char *, const char *, unsigned long, const void *);
	int (*unshare)(int);
};
void fz_isolate(const struct fz_sys *sys, int argc, char **argv);

#endif

/* FUZZ_WRITE_SEEDS=dir: a target writes its seed corpus there and exits (fuzz/run.sh). NULL
 * when not asked. */
const char *fz_seed_dir(void);
/* Write seed-<name> in dir: the byte `prefix` (a target's selector; < 0: none), then data. */
void fz_seed_write(const char *dir, const char *name, int prefix, const void *data, size_t len);
/* A file of fuzz/seeds (or an absolute path) read whole; exits if it cannot be read. The
 * buffer is static: valid until the next call. */
const uint8_t *fz_seed_file(const char *name, size_t *len);
/* Every file of fuzz/seeds whose name starts with `prefix`, written as seeds with the
 * selector byte. Returns how many. */
unsigned fz_seed_files(const char *dir, const char *prefix, int selector);

/* Box the target in (common_isolate.c): own namespaces, the host's mounts read-only but for
 * libFuzzer's output directories in argv, a tmpfs on /run, machine-wide capabilities
 * dropped. Exits when it cannot (not root). The calls are the caller's: a target that wraps
 * mount or unshare passes the real ones. */
struct fz_sys {
	int (*mount)(const char *, const char *, const char *, unsigned long, const void *);
	int (*unshare)(int);
};
void fz_isolate(const struct fz_sys *sys, int argc, char **argv);

#endif
