/*
 * history.c - a ring of the last N messages (see history.h).
 *
 * Ids in the ring increase from the oldest to the newest (one process gives
 * them out in order; a Redis stream too, though it may skip some), so where
 * a resume starts is found by binary search.
 */
#include "server/room/history.h"

#include <stdlib.h>

struct srv_history {
	srv_msg **ring;
	size_t capacity;
	size_t start;        /* index of the oldest message */
	size_t count;
};

srv_history *
srv_history_new(size_t capacity)
{
	srv_history *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	if (capacity > 0 && (h->ring = calloc(capacity, sizeof(*h->ring))) == NULL) {
		free(h);
		return NULL;
	}
	h->capacity = capacity;
	return h;
}

void
srv_history_free(srv_history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->count; i++)
		srv_msg_release(h->ring[(h->start + i) % h->capacity]);
	free(h->ring);
	free(h);
}

void
srv_history_append(srv_history *h, srv_msg *m)
{
	if (h->capacity == 0)
		return;
	atomic_fetch_add(&m->refs, 1);
	if (h->count == h->capacity) {             /* full: the oldest goes */
		srv_msg_release(h->ring[h->start]);
		h->ring[h->start] = m;
		h->start = (h->start + 1) % h->capacity;
	} else {
		h->ring[(h->start + h->count) % h->capacity] = m;
		h->count++;
	}
}

size_t
srv_history_after(const srv_history *h, uint64_t since, srv_msg **out, size_t max,
                  uint64_t *oldest_out)
{
	*oldest_out = 0;
	if (h->count == 0)
		return 0;
	*oldest_out = h->ring[h->start]->id;
	size_t lo = 0, hi = h->count;         /* the first position with id > since */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->ring[(h->start + mid) % h->capacity]->id <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t skip = lo, n = 0;
	for (size_t i = skip; i < h->count && n < max; i++) {
		srv_msg *m = h->ring[(h->start + i) % h->capacity];
		atomic_fetch_add(&m->refs, 1);
		out[n++] = m;
	}
	return n;
}

size_t
srv_history_count(const srv_history *h)
{
	return h->count;
}
