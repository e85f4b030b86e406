/* What a child of the agent gives up before it runs anything of its own (docs/security.md,
 * "Forked children hold nothing of the agent").
 *
 * Every fd of the agent — its ttRPC sockets, epoll, signalfd, timers, every container's
 * stdio, namespace and root fds — is close-on-exec, but a child that runs our code before
 * its exec (a container's set-up, a hook, a namespace holder) holds them all until then.
 * While it is dumpable and its credentials are no more than another process's of the same
 * pid namespace, that process opens any of them through /proc/<pid>/fd/N, and its root
 * through /proc/<pid>/root (runc's CVE-2016-9962). So every child of the agent is not
 * dumpable from its first instruction and closes — not marks — what it does not need.
 * Both calls are async-signal-safe: no allocation, raw system calls. */
#ifndef PD_CHILD_FDS_H
#define PD_CHILD_FDS_H

#include <stddef.h>

/* Not dumpable: the /proc/<pid> files of the calling process belong to root of the initial
 * user namespace, and none of its fds, its root, cwd, memory or environment can be opened,
 * nor can it be ptraced, by a process without CAP_SYS_PTRACE there — whatever ids and
 * capabilities it takes later. The agent makes itself so at start (main.c) and a fork
 * inherits it, so every child is from its first instruction; each fork site says it again
 * where the child starts, against whatever may have set it back. The exec of the next
 * image sets dumpability by the kernel's rule: dumpable unless set-id, or not readable by
 * the process that runs it. */
void pd_undumpable(void);

/* Keep exactly 0, 1, 2 and the fds *keep[0..n-1], close every other one. The kept fds are
 * moved to 3, 4, ... (a fd that is already in that range stays where it is; the order is
 * otherwise not kept), each *keep[i] is updated to its new number, and all are
 * close-on-exec. An entry of -1 stays -1; a fd named twice is kept once (both entries
 * updated). Closing is close_range(2), or pd_close_fds_from on a kernel without it. The log sink,
 * an fd of the agent, is forgotten: the child's log lines go to stderr only. Returns 0, or -1 with
 * errno (the fds are then half-sorted: the caller must not go on). */
int pd_child_keep_fds(int *const keep[], size_t n);

/* Close every fd >= lo without close_range (pd_child_keep_fds's way on a kernel before
 * 5.9, public for its test): each entry of /proc/self/fd when that is a procfs, else each
 * fd below RLIMIT_NOFILE (a container without a proc mount may have a /proc/self/fd of its
 * own). 0, or -1 with errno. */
int pd_close_fds_from(unsigned lo);

#endif
