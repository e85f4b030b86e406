/* Intrusive doubly linked list: the agent links connections, calls and waiters without
 * separate allocations, so unlinking can never fail. */
#ifndef PD_LIST_H
#define PD_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct pd_list {
	struct pd_list *prev, *next;
};

static inline void pd_list_init(struct pd_list *l)
{
	l->prev = l->next = l;
}

static inline bool pd_list_empty(const struct pd_list *l)
{
	return l->next == l;
}

static inline void pd_list_add_tail(struct pd_list *head, struct pd_list *node)
{
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

/* Safe on a node that was pd_list_init'ed and never added, or already removed. */
static inline void pd_list_del(struct pd_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->prev = node->next = node;
}

/* Move every node of src to dst (dst must be empty); src ends empty. */
static inline void pd_list_move_all(struct pd_list *dst, struct pd_list *src)
{
	pd_list_init(dst);
	if (pd_list_empty(src))
		return;
	*dst = *src;
	dst->next->prev = dst;
	dst->prev->next = dst;
	pd_list_init(src);
}

#define pd_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Iterate allowing removal of the current node. */
#define pd_list_for_each_safe(pos, tmp, head)                                                      \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#endif
