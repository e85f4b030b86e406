/* fuzz_dispatch's parts: the harness (fuzz_dispatch.c), the connection the dispatcher
 * answers on (dispatch_conn.c) and the fake kernel and engine below the handlers
 * (dispatch_fake.c, wired in by the link-time wraps of fuzz_dispatch.wrap). */
#ifndef PD_FUZZ_DISPATCH_H
#define PD_FUZZ_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/ttrpc/server_internal.h"

/* Where the fake kernel keeps its files: a tmpfs over /run in the harness's own mount
 * namespace (every path the handlers write below /run lands there too). */
#define FZ_RUN	  "/run"
#define FZ_HOME	  FZ_RUN "/pidone-fuzz"
#define FZ_SYSFS  FZ_HOME "/sys"
#define FZ_PROCFS FZ_HOME "/proc"
#define FZ_DEV	  FZ_HOME "/dev"
#define FZ_ROOT	  FZ_HOME "/root"   /* where helper programs are looked for */
#define FZ_ROOTFS FZ_HOME "/rootfs" /* the prelude's container rootfs */
#define FZ_MNT	  FZ_HOME "/mnt"    /* the directories fake mounts are */

/* ---- fuzz_dispatch.c: the methods of the input format ------------------------------------- */

int fz_method_count(void);
int fz_method_index(const char *name); /* -1 if no service has it */
const char *fz_method_name(int i);
const ProtobufCMessageDescriptor *fz_method_input(int i);

/* ---- dispatch_seeds.c: FUZZ_WRITE_SEEDS=dir writes the seed corpus and exits -------------- */

void fz_write_seeds(const char *dir);

/* ---- dispatch_conn.c: the connection and the server around the real dispatcher ---------- */

/* One server with one connection (serial or not), answering with the real services. */
void fz_conn_init(const struct pd_service *services, unsigned n_services);
struct pd_conn *fz_conn(void);
/* Start of an input: no responses seen, the given limits (parked calls; reply bytes the host
 * has not read, past which replies with data are refused). */
void fz_conn_reset(bool serial, unsigned max_parked, size_t max_unread);
/* The host reads every reply queued so far. */
void fz_conn_host_reads(void);
/* A stream id was sent as a request that must be answered at most once. */
void fz_conn_expect(uint32_t stream_id);
/* Cancel every parked call, as a closed connection does (no answer). */
void fz_conn_cancel_all(void);
/* The agent asked the server to stop (DestroySandbox); cleared by fz_conn_reset. */
bool fz_conn_stop_requested(void);

/* ---- dispatch_fake.c: processes, cgroups, guards -------------------------------------- */

/* Make the fake kernel's files and start counting. */
void fz_fake_init(void);
/* Start of an input: no processes; spawn_fails / hooks_fail steer the engine's outcomes. */
void fz_fake_reset(bool spawn_fails, bool hooks_fail);
/* Every fake process gone (the end of an input, after the sandbox was destroyed). */
void fz_fake_forget_all(void);
/* The n-th live fake process (mod their number) exits with status (a wait status). */
void fz_fake_exit_one(unsigned n, int status);
/* The n-th live fake process writes data to its stdout (or stderr), as far as the pipe or
 * tty takes it without waiting; reads up to max bytes of its stdin. */
void fz_fake_output(unsigned n, bool err, const uint8_t *data, size_t len);
void fz_fake_input(unsigned n, size_t max);
/* An OOM event in the n-th live fake cgroup (mod their number). */
void fz_fake_oom_one(unsigned n);
/* Fake mounts made in this input; forget them (their directories are removed). */
unsigned fz_fake_mounts(void);
void fz_fake_mounts_forget(void);
/* Live fake processes / cgroups (for the end-of-input checks). */
unsigned fz_fake_procs_alive(void);
unsigned fz_fake_cgroups(void);

#endif
