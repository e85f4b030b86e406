/* A small rtnetlink client: one socket, requests built in a caller's buffer, acks with the
 * kernel's extended error message, dumps parsed message by message. No libnl: the agent
 * needs a dozen message kinds and this is a few hundred lines.
 *
 * Requests are synchronous: send, then read until the answer with our sequence number.
 * Messages with another sequence number (left over from an earlier, abandoned dump) are
 * skipped. A receive timeout makes sure pid 1 never waits forever on the kernel. */
#ifndef PD_NET_NETLINK_H
#define PD_NET_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "agent/error.h"

/* Largest request we build: a header, a family header and a few small attributes. */
#define PD_NLMSG_MAX 1024
/* Declare an aligned request buffer. */
#define PD_NLMSG_BUF(name) unsigned char name[PD_NLMSG_MAX] __attribute__((aligned(8)))

struct pd_nl {
	int fd;
	uint32_t seq;
	unsigned char *buf; /* receive buffer, grown to the largest datagram seen */
	size_t cap;
};

int pd_nl_open(struct pd_nl *nl, struct pd_error *err);
void pd_nl_close(struct pd_nl *nl);

/* ---- building a request ------------------------------------------------------------------ */

struct pd_nlmsg {
	unsigned char *buf; /* starts with the struct nlmsghdr */
	size_t cap;
	bool overflow; /* an append did not fit: sending fails */
};

static inline struct nlmsghdr *pd_nlmsg_hdr(const struct pd_nlmsg *m)
{
	return (struct nlmsghdr *)(void *)m->buf;
}

/* Start a message of `type` with NLM_F_REQUEST | flags in buf (aligned, cap bytes). */
void pd_nlmsg_init(struct pd_nlmsg *m, void *buf, size_t cap, uint16_t type, uint16_t flags);
/* Append len zeroed bytes (padded to 4): the family header. NULL if it does not fit. */
void *pd_nlmsg_reserve(struct pd_nlmsg *m, size_t len);
/* Append one attribute. */
void pd_nlmsg_attr(struct pd_nlmsg *m, uint16_t type, const void *data, size_t len);
void pd_nlmsg_attr_u32(struct pd_nlmsg *m, uint16_t type, uint32_t v);
/* A string attribute, NUL included (what the kernel expects for names). */
void pd_nlmsg_attr_str(struct pd_nlmsg *m, uint16_t type, const char *s);
/* A nested attribute: begin, append its members, end (which fixes its length). */
struct rtattr *pd_nlmsg_nest_begin(struct pd_nlmsg *m, uint16_t type);
void pd_nlmsg_nest_end(struct pd_nlmsg *m, struct rtattr *nest);

/* ---- talking to the kernel --------------------------------------------------------------- */

/* Send m (NLM_F_ACK is added) and wait for its ack. A kernel error comes back as errno
 * with the kernel's extended message, e.g. "Nexthop has invalid gateway: Network is
 * unreachable"; callers add what they were doing. */
int pd_nl_call(struct pd_nl *nl, struct pd_nlmsg *m, struct pd_error *err);

/* Called for each message of a dump. h == NULL means "start over": the kernel reported
 * that the objects changed during the dump (NLM_F_DUMP_INTR) and it is being repeated, so
 * drop what was collected. Return < 0 (with err) to stop. */
typedef int (*pd_nl_dump_fn)(const struct nlmsghdr *h, void *arg, struct pd_error *err);

/* Send m as a dump request (NLM_F_DUMP is added) and feed every answer to fn. */
int pd_nl_dump(struct pd_nl *nl, struct pd_nlmsg *m, pd_nl_dump_fn fn, void *arg,
	       struct pd_error *err);

/* ---- reading messages -------------------------------------------------------------------- */

/* The outcome of an NLMSG_ERROR message: *error is 0 (an ack) or a positive errno; msg gets
 * the extended ack message, or "" (size > 0). Returns -1 if the message is malformed. */
int pd_nl_parse_ack(const struct nlmsghdr *h, int *error, char *msg, size_t size);
/* The outcome of a dump's NLMSG_DONE: *error is 0 or the positive errno the kernel put
 * there (negated, as in an ack). Returns -1 if that is not an errno. */
int pd_nl_parse_done(const struct nlmsghdr *h, int *error);
/* The largest errno the kernel reports (its MAX_ERRNO): anything past it is not one. */
#define PD_NL_MAX_ERRNO 4095

/* Index the attributes in [attrs, attrs + len): tb[type] = the last one of each type
 * <= max (tb has max + 1 slots; others are NULL). Returns -1 if an attribute's length
 * runs past the end or is shorter than its header. */
int pd_nl_attrs(const void *attrs, size_t len, const struct rtattr **tb, unsigned max);

/* The attributes of message h, after its family header of hdrlen bytes. Returns -1 when
 * the message is too short for that header or its attributes are malformed. */
int pd_nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct rtattr **tb,
		    unsigned max);

/* Payload of an attribute and its length. */
static inline const void *pd_nl_attr_data(const struct rtattr *a)
{
	return RTA_DATA(a);
}
static inline size_t pd_nl_attr_len(const struct rtattr *a)
{
	return RTA_PAYLOAD(a);
}
/* A u32 attribute; false if absent or too short. */
bool pd_nl_attr_u32(const struct rtattr *a, uint32_t *v);
/* A string attribute copied to buf (NUL-terminated, cut to size - 1); false if absent. */
bool pd_nl_attr_str(const struct rtattr *a, char *buf, size_t size);

#endif
