#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE 16384

struct pd_arena_chunk {
	struct pd_arena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void pd_arena_init(struct pd_arena *a, size_t limit)
{
	a->head = NULL;
	a->total = 0;
	a->limit = limit;
}

void pd_arena_free(struct pd_arena *a)
{
	struct pd_arena_chunk *c = a->head;
	while (c) {
		struct pd_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *pd_arena_alloc(struct pd_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	if (a->limit && (size > a->limit || a->total > a->limit - size))
		return NULL;
	struct pd_arena_chunk *c = a->head;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > CHUNK_SIZE / 2 ? size : CHUNK_SIZE;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		if (size > CHUNK_SIZE / 2 && a->head) {
			/* A big block gets its own chunk behind the head, so the head's free
			 * space stays usable for the small ones. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = c->data + c->used;
	c->used += size;
	a->total += size;
	memset(p, 0, size);
	return p;
}

void *pd_arena_calloc(struct pd_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return pd_arena_alloc(a, n * size);
}

char *pd_arena_strndup(struct pd_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = pd_arena_alloc(a, len + 1);
	if (p)
		memcpy(p, s, len);
	return p;
}

char *pd_arena_strdup(struct pd_arena *a, const char *s)
{
	return pd_arena_strndup(a, s, strlen(s));
}
