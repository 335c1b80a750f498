/*
 * history.c - a ring of the last N messages (see history.h).
 *
 * Ids in the ring increase from the oldest to the newest (one process gives
 * them out in order; a Redis stream too, though it may skip some), so where
 * a resume starts is found by binary search.
 */
#include "server/room/history.h"

#include <stdbool.h>
#include <stdlib.h>

/* Whom one message was for. */
typedef struct {
	uint64_t id;
	uint64_t hash;       /* srv_name_hash of its channel or client */
	bool direct;
} tag;

struct srv_history {
	srv_msg **ring;
	size_t capacity;
	size_t start;        /* index of the oldest message */
	size_t count;
	tag *tags;           /* a ring of its own, longer */
	size_t tag_capacity, tag_start, tag_count;
};

srv_history *
srv_history_new(size_t capacity)
{
	srv_history *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->tag_capacity = capacity > SRV_HISTORY_TAGS ? capacity : SRV_HISTORY_TAGS;
	h->tags = malloc(h->tag_capacity * sizeof(*h->tags));
	if (h->tags == NULL ||
	    (capacity > 0 && (h->ring = calloc(capacity, sizeof(*h->ring))) == NULL)) {
		free(h->tags);
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
	free(h->tags);
	free(h);
}

/* The tag of m, the oldest tag going when the ring is full. */
static void
append_tag(srv_history *h, const srv_msg *m)
{
	tag t = { m->id, srv_name_hash(m->target), m->direct };
	if (h->tag_count == h->tag_capacity) {
		h->tags[h->tag_start] = t;
		h->tag_start = (h->tag_start + 1) % h->tag_capacity;
	} else {
		h->tags[(h->tag_start + h->tag_count) % h->tag_capacity] = t;
		h->tag_count++;
	}
}

void
srv_history_append(srv_history *h, srv_msg *m)
{
	append_tag(h, m);
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

size_t
srv_history_count_for(const srv_history *h, uint64_t after, uint64_t before,
                      srv_tag_match *match, void *ctx, uint64_t *counted_after)
{
	/* A full ring has lost the tags before its oldest one. */
	if (h->tag_count == h->tag_capacity && h->tags[h->tag_start].id > after + 1)
		after = h->tags[h->tag_start].id - 1;
	if (counted_after != NULL)
		*counted_after = after;
	size_t lo = 0, hi = h->tag_count;     /* the first tag with id > after */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->tags[(h->tag_start + mid) % h->tag_capacity].id <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t n = 0;
	for (size_t i = lo; i < h->tag_count; i++) {
		const tag *t = &h->tags[(h->tag_start + i) % h->tag_capacity];
		if (t->id >= before)
			break;
		if (match(t->hash, t->direct, ctx))
			n++;
	}
	return n;
}
