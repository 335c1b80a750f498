/*
 * resume.c - a client's backlog after a resume (see resume.h).
 *
 * DESIGN
 * A resume takes out everything the client holds (its backlog and its
 * queue), adds what the history holds after `since` that was for the
 * client (its channels now, or its name) and it does not hold, and makes
 * that, in id order, the client's *backlog*: takes (delivery.c) read it
 * before the queue.  It runs under r->send, so no publish adds to the queue
 * meanwhile and ids are settled in one place: a message for the client
 * with an id above `since` is in the backlog, or still to come in the
 * queue, or counted here once as `missed` -- the history's tags (history.h)
 * say which of the messages it no longer holds were for the client, so
 * another channel's messages are never counted.
 */
#include "server/room/resume.h"
#include "server/room/client.h"

#include <stdlib.h>
#include <string.h>

/* Caller holds replay_lock (or is the only user). */
void
srv_replay_clear(srv_client *c)
{
	for (size_t i = c->replay_pos; i < c->replay_len; i++)
		srv_msg_release(c->replay[i]);
	free(c->replay);
	c->replay = NULL;
	c->replay_len = c->replay_pos = 0;
	atomic_store(&c->has_replay, false);
}

srv_msg *
srv_replay_next(srv_client *c)
{
	if (!atomic_load(&c->has_replay))
		return NULL;
	srv_msg *m = NULL;
	pthread_mutex_lock(&c->replay_lock);
	if (c->replay_pos < c->replay_len)
		m = c->replay[c->replay_pos++];
	if (c->replay_pos == c->replay_len)
		srv_replay_clear(c);
	pthread_mutex_unlock(&c->replay_lock);
	return m;
}

/*
 * Puts m back into the resume backlog if it belongs there: when the backlog
 * still holds messages newer than m (m came from it).  Caller holds
 * replay_lock.  False when m belongs to the queue.
 */
static bool
put_back_locked(srv_client *c, srv_msg *m)
{
	if (c->replay_pos == c->replay_len || m->id > c->replay[c->replay_len - 1]->id)
		return false;
	if (c->replay_pos == 0) {       /* no room in front: make some */
		srv_msg **bigger = malloc((c->replay_len + 1) * sizeof(*bigger));
		if (bigger == NULL)
			return false;
		memcpy(bigger + 1, c->replay, c->replay_len * sizeof(*bigger));
		free(c->replay);
		c->replay = bigger;
		c->replay_len++;
		c->replay_pos = 1;
	}
	/* Slide the older ones one place forward, so m sits in id order. */
	size_t i = --c->replay_pos;
	while (i + 1 < c->replay_len && c->replay[i + 1]->id < m->id) {
		c->replay[i] = c->replay[i + 1];
		i++;
	}
	c->replay[i] = m;
	return true;
}

bool
srv_replay_give_back(srv_client *c, srv_msg *m)
{
	pthread_mutex_lock(&c->replay_lock);
	bool in_replay = put_back_locked(c, m);
	if (in_replay)
		atomic_store(&c->has_replay, true);
	pthread_mutex_unlock(&c->replay_lock);
	return in_replay;
}

/* For qsort: messages in id order. */
static int
msg_ptr_id_order(const void *a, const void *b)
{
	uint64_t x = (*(srv_msg *const *)a)->id, y = (*(srv_msg *const *)b)->id;
	return x < y ? -1 : x > y;
}

/*
 * Everything the client holds now -- its backlog and its queue -- taken
 * out, in id order, into a malloc'ed array (*n_out entries).  Caller holds
 * r->send, so no broadcast adds to the queue meanwhile.
 */
static srv_msg **
take_all_held(srv_client *c, size_t *n_out)
{
	pthread_mutex_lock(&c->replay_lock);
	size_t n = c->replay_len - c->replay_pos, cap = n + 16;
	srv_msg **held = malloc(cap * sizeof(*held));
	if (held != NULL && n > 0)
		memcpy(held, c->replay + c->replay_pos, n * sizeof(*held));
	if (held != NULL) {
		c->replay_pos = c->replay_len;   /* moved, not released */
		srv_replay_clear(c);
	}
	pthread_mutex_unlock(&c->replay_lock);
	void *item;
	while (held != NULL && queue_get_nowait(c->q, &item) == QUEUE_OK) {
		if (n == cap) {
			srv_msg **bigger = realloc(held, (cap *= 2) * sizeof(*held));
			if (bigger == NULL) {
				queue_give_back(c->q, item);
				break;                    /* the rest stays queued */
			}
			held = bigger;
		}
		held[n++] = item;
	}
	if (held != NULL)
		qsort(held, n, sizeof(*held), msg_ptr_id_order);
	*n_out = n;
	return held;
}

/* What a resume of client c from `since` counts as lost. */
typedef struct {
	srv_client *c;
	uint64_t since;
} lost_ctx;

/* The id above which a target's lost messages are still to be counted:
 * `since`, or the target's mark if a resume before counted further. */
static uint64_t
count_floor(uint64_t since, uint64_t mark)
{
	return mark > 0 && since < mark - 1 ? mark - 1 : since;
}

/* c's subscription to the channel whose name's tag hash is `hash`, or NULL. */
static srv_sub *
sub_by_hash(srv_client *c, uint64_t hash)
{
	for (size_t i = 0; i < c->n_subs; i++)
		if (SRV_TAG_HASH(c->subs[i].channel->hash) == hash)
			return &c->subs[i];
	return NULL;
}

/* Whether message `id` to (tag hash, direct) counts as lost for the client:
 * it was for the client (one of its channels now, or its name) and above
 * that target's floor.  Caller holds r->table (c's channels). */
static bool
lost_for_client(uint64_t id, uint64_t hash, bool direct, void *ctx)
{
	lost_ctx *lc = ctx;
	if (direct)
		return hash == SRV_TAG_HASH(lc->c->name_hash) &&
		       id > count_floor(lc->since, lc->c->missed_counted_below);
	srv_sub *sub = sub_by_hash(lc->c, hash);
	return sub != NULL && id > count_floor(lc->since, sub->missed_counted_below);
}

/* Whether message m was for c: one of its channels now, or its name. */
static bool
msg_for_client(const srv_client *c, const srv_msg *m)
{
	return m->direct ? strcmp(m->target, c->name) == 0
	                 : srv_client_in_channel(c, srv_name_hash(m->target), m->target);
}

/* Every target of c has been counted below `oldest` now. */
static void
raise_marks(srv_client *c, uint64_t oldest)
{
	if (oldest > c->missed_counted_below)
		c->missed_counted_below = oldest;
	for (size_t i = 0; i < c->n_subs; i++)
		if (oldest > c->subs[i].missed_counted_below)
			c->subs[i].missed_counted_below = oldest;
}

/*
 * The backlog: what c held with an id above `since`, and what the history
 * holds after it that was for c, merged in id order, each once (a message
 * c held is also in the history when it is recent).  Takes over the
 * references of held[] and history[]; returns how many went into out[].
 * Caller holds r->table.
 */
static size_t
merge_backlog(const srv_client *c, uint64_t since, srv_msg **held, size_t n_held,
              srv_msg **history, size_t n_history, srv_msg **out)
{
	size_t n = 0, i = 0, j = 0;
	while (i < n_held || j < n_history) {
		srv_msg *m;
		if (j == n_history || (i < n_held && held[i]->id <= history[j]->id)) {
			m = held[i++];
			if (j < n_history && history[j]->id == m->id)
				srv_msg_release(history[j++]);    /* the same message twice */
		} else {
			m = history[j++];
			if (!msg_for_client(c, m)) {
				srv_msg_release(m);               /* another channel's */
				continue;
			}
		}
		if (m->id > since)
			out[n++] = m;
		else
			srv_msg_release(m);                   /* seen already */
	}
	return n;
}

long
srv_client_resume(srv_registry *r, srv_client *c, uint64_t since)
{
	pthread_mutex_lock(&r->send);
	uint64_t last = r->next_id - 1;
	if (since > last)
		since = 0;             /* an id from an earlier run: all is new */
	size_t n_held;
	srv_msg **held = take_all_held(c, &n_held);
	size_t cap = srv_history_count(r->history);
	srv_msg **from_history = malloc((cap > 0 ? cap : 1) * sizeof(*from_history));
	srv_msg **backlog = malloc((n_held + cap > 0 ? n_held + cap : 1) * sizeof(*backlog));
	if (held == NULL || from_history == NULL || backlog == NULL) {
		/* Out of memory: put back what was taken; no resume, no harm. */
		for (size_t i = 0; held != NULL && i < n_held; i++)
			queue_give_back(c->q, held[i]);
		free(held);
		free(from_history);
		free(backlog);
		pthread_mutex_unlock(&r->send);
		return 0;
	}
	/* The history holds every message from `oldest` to `last`; below it
	 * only what this client still held can be given. */
	uint64_t oldest;
	size_t n_history = srv_history_after(r->history, since, from_history, cap, &oldest);
	if (oldest == 0)
		oldest = last + 1;     /* it holds nothing */
	/* Ids below `oldest` that were for this client and are neither held
	 * nor seen are lost: the history's tags say which they were.  Each is
	 * counted once per client and channel, even over several resumes (the
	 * marks; only resumes write them, all under r->send). */
	pthread_rwlock_rdlock(&r->table);
	lost_ctx lost = { c, since };
	uint64_t counted_after;
	long missed = (long)srv_history_count_for(r->history, since, oldest, lost_for_client,
	                                          &lost, &counted_after);
	for (size_t i = 0; i < n_held; i++) {
		srv_msg *m = held[i];
		if (m->id > counted_after && m->id < oldest && msg_for_client(c, m) &&
		    lost_for_client(m->id, SRV_TAG_HASH(srv_name_hash(m->target)), m->direct, &lost))
			missed--;               /* held, so not lost */
	}
	size_t n = merge_backlog(c, since, held, n_held, from_history, n_history, backlog);
	raise_marks(c, oldest);
	pthread_rwlock_unlock(&r->table);
	free(held);
	free(from_history);

	pthread_mutex_lock(&c->replay_lock);
	c->replay = backlog;
	c->replay_len = n;
	c->replay_pos = 0;
	atomic_store(&c->has_replay, n > 0);
	if (n == 0)
		srv_replay_clear(c);
	pthread_mutex_unlock(&c->replay_lock);
	/* Every id above `since` is now delivered from the backlog or the
	 * queue, or counted here: earlier drops are settled. */
	atomic_store(&c->dropped_unreported, 0);
	atomic_fetch_add(&c->missed_unreported, missed);
	atomic_fetch_add(&r->missed, (unsigned long long)missed);
	pthread_mutex_unlock(&r->send);
	return missed;
}
