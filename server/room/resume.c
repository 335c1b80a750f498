/*
 * resume.c - a client's backlog after a resume (see resume.h).
 *
 * DESIGN
 * A resume takes out everything the client holds (its backlog and its
 * queue), adds what the history holds after `since` that the client does
 * not, and makes that, in id order, the client's *backlog*: takes
 * (delivery.c) read it before the queue.  It runs under r->send, so no
 * broadcast adds to the queue meanwhile and ids are settled in one place:
 * an id above `since` is in the backlog, or still to come in the queue, or
 * counted here once as `missed`.
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

long
srv_client_resume(srv_registry *r, srv_client *c, uint64_t since)
{
	pthread_mutex_lock(&r->send);
	uint64_t last = r->next_id - 1;
	if (since > last)
		since = 0;             /* an id from an earlier run: all is new */
	size_t n_held;
	srv_msg **held = take_all_held(c, &n_held);
	size_t cap = n_held + srv_history_count(r->history);
	srv_msg **backlog = held != NULL ? malloc((cap > 0 ? cap : 1) * sizeof(*backlog)) : NULL;
	if (backlog == NULL) {
		/* Out of memory: put back what was taken; no resume, no harm. */
		for (size_t i = 0; held != NULL && i < n_held; i++)
			queue_give_back(c->q, held[i]);
		free(held);
		pthread_mutex_unlock(&r->send);
		return 0;
	}
	/* The history holds every id from `oldest` to `last`; below it only
	 * what this client still held can be given. */
	uint64_t oldest;
	size_t n = 0;
	srv_msg **from_history = backlog + n_held;   /* filled below, moved after */
	size_t n_history = srv_history_after(r->history, since, from_history,
	                                     cap - n_held, &oldest);
	if (oldest == 0)
		oldest = last + 1;     /* it holds nothing */
	/* Ids below `oldest` that are neither held nor seen are lost; count
	 * each once per client, even over several resumes. */
	uint64_t count_from = since;
	if (c->missed_counted_below > 0 && count_from < c->missed_counted_below - 1)
		count_from = c->missed_counted_below - 1;
	long missed = oldest - 1 > count_from ? (long)(oldest - 1 - count_from) : 0;
	for (size_t i = 0; i < n_held; i++) {
		if (held[i]->id > since && held[i]->id < oldest) {
			backlog[n++] = held[i];         /* only here: keep it */
			if (held[i]->id > count_from)
				missed--;               /* held, so not lost */
		} else {
			srv_msg_release(held[i]);       /* seen, or the history has it */
		}
	}
	memmove(backlog + n, from_history, n_history * sizeof(*backlog));
	n += n_history;
	free(held);
	if (oldest > c->missed_counted_below)
		c->missed_counted_below = oldest;

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

