/* A bump allocator for data that lives and dies together — a container's configuration is
 * hundreds of small strings and arrays built from one request; an arena makes every error
 * path one pd_arena_free() and the happy path one allocation per 16 KiB. */
#ifndef PD_ARENA_H
#define PD_ARENA_H

#include <stddef.h>

struct pd_arena_chunk;

struct pd_arena {
	struct pd_arena_chunk *head;
	size_t total; /* bytes handed out, to enforce a cap on what a request may cost */
	size_t limit; /* 0 = no limit */
};

void pd_arena_init(struct pd_arena *a, size_t limit);
void pd_arena_free(struct pd_arena *a);
/* Zeroed memory, 16-byte aligned; NULL when out of memory or over the limit. */
void *pd_arena_alloc(struct pd_arena *a, size_t size);
void *pd_arena_calloc(struct pd_arena *a, size_t n, size_t size);
char *pd_arena_strdup(struct pd_arena *a, const char *s);
char *pd_arena_strndup(struct pd_arena *a, const char *s, size_t n);

#endif
