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

/*
 * Whom one message was for, in 8 bytes: the hash of its channel's or
 * client's name in the high 62 bits, bit 1 set for a direct message, bit 0
 * always set (0 is "no message had this id": ids a Redis stream skipped).
 * Tags are kept by id: message id i has its tag at tags[i % capacity].
 */
typedef uint64_t tag;

#define TAG_HASH_MASK (~(uint64_t)3)   /* SRV_TAG_HASH */

static tag
tag_of(const srv_msg *m)
{
	return (srv_name_hash(m->target) & TAG_HASH_MASK) | (m->direct ? 2 : 0) | 1;
}

struct srv_history {
	srv_msg **ring;
	size_t capacity;
	size_t start;        /* index of the oldest message */
	size_t count;
	tag *tags;           /* a ring of its own, longer, indexed by id */
	size_t tag_capacity;
	uint64_t tag_first, tag_next;   /* the ids it holds: tag_first .. tag_next - 1 */
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

/* The tag of m (ids skipped on the way get "no message"), the oldest
 * going when the ring is full. */
static void
append_tag(srv_history *h, const srv_msg *m)
{
	if (h->tag_next == 0 || m->id - h->tag_next >= h->tag_capacity) {
		h->tag_first = h->tag_next = m->id;       /* the first, or after a huge gap */
	}
	for (; h->tag_next < m->id; h->tag_next++)
		h->tags[h->tag_next % h->tag_capacity] = 0;
	h->tags[m->id % h->tag_capacity] = tag_of(m);
	h->tag_next = m->id + 1;
	if (h->tag_next - h->tag_first > h->tag_capacity)
		h->tag_first = h->tag_next - h->tag_capacity;
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
	/* The ring has lost the tags before its first one (ids from before this
	 * history began had none to lose). */
	if (h->tag_next > 0 && after + 1 < h->tag_first)
		after = h->tag_first - 1;
	if (counted_after != NULL)
		*counted_after = after;
	size_t n = 0;
	for (uint64_t id = after + 1; id < before && id < h->tag_next; id++) {
		tag t = h->tags[id % h->tag_capacity];
		if (t != 0 && match(id, t & TAG_HASH_MASK, (t & 2) != 0, ctx))
			n++;
	}
	return n;
}
