/* fuzz_parsers' parts: the target (fuzz_parsers.c) and its netlink kernel
 * (parsers_netlink.c, wired in by fuzz_parsers.wrap). */
#ifndef PD_FUZZ_PARSERS_H
#define PD_FUZZ_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The datagrams the next netlink exchange gets, as {u16 length LE, u8 flags, bytes}... */
void fz_nl_feed(const uint8_t *data, size_t len);
/* Seeds: talk to the real kernel and keep each datagram received in buf, in the format
 * above (at most cap bytes). */
void fz_nl_record(bool on, uint8_t *buf, size_t cap);
size_t fz_nl_recorded(void);

#endif
