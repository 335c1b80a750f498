/*
 * broadcast.c - one message into every queue, then to the sockets that
 * wait for it (see broadcast.h).
 *
 * DESIGN
 * A publish has two halves, both in srv_registry_publish (or _deliver):
 *   under the locks   r->send (ids in order) and r->table (shared): the
 *                     message gets its id, goes into the history and into
 *                     the queue of each receiver -- the channel's members,
 *                     or the one client -- with queue_put_nowait (never
 *                     blocks); the receivers that took it and have a pusher
 *                     are collected, each with a reference;
 *   after them        each collected client's pushers are called.
 * The pushers run outside r->send and r->table, so the next broadcast, a
 * join or the reaper never wait for somebody's socket.  A client's pusher
 * list has its own small lock, push_lock, held while a push runs, so that a
 * session that detaches knows no broadcast is still inside its pusher.
 *
 * The cost of a publish is in proportion to its receivers: a channel keeps
 * its members in an array (channel.c), so a channel of 10 among 100,000
 * clients costs what it costs among 10.
 */
#include "server/room/broadcast.h"
#include "server/room/client.h"
#include "server/common/clock.h"

#include <stdlib.h>

/* What the locked half hands to the half that pushes. */
typedef struct {
	srv_client **pushes;         /* clients to push to, each referenced */
	size_t n_pushes;
	size_t receivers;            /* queues the message went into */
} pending_pushes;

/* Puts m into c's queue; notes c in p if it took it and has a pusher.
 * Caller holds r->send and r->table (shared).  False when the queue was
 * full (a drop, counted). */
static bool
put_into(srv_registry *r, srv_client *c, srv_msg *m, pending_pushes *p)
{
	if (queue_put_nowait(c->q, m) != QUEUE_OK) {
		srv_client_count_drops(r, c, 1);
		return false;
	}
	p->receivers++;
	if (atomic_load(&c->has_pushers)) {
		atomic_fetch_add(&c->refs, 1);   /* kept until pushed */
		p->pushes[p->n_pushes++] = c;
	}
	return true;
}

/* Every client missed `gap` ids that will never come (a Redis stream
 * trimmed them before this node read them): count them as drops.  Caller
 * holds r->send and r->table. */
static void
count_gap(srv_registry *r, uint64_t gap)
{
	for (size_t i = 0; i < r->bucket_count; i++)
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next)
			srv_client_count_drops(r, c, (long)gap);
}

/*
 * Who message `to` goes to: a channel's members (none when nobody is
 * subscribed), or one client.  Caller holds r->table.  False for a direct
 * message to a name unknown here.
 */
static bool
receivers_of(srv_registry *r, const srv_target *to, srv_client ***list, size_t *n,
             srv_client **one)
{
	*list = NULL;
	*n = 0;
	if (to->direct) {
		*one = srv_table_find(r, to->name);
		if (*one == NULL)
			return false;
		*list = one;
		*n = 1;
	} else {
		srv_channel *ch = srv_channel_find(r, to->name);
		if (ch != NULL) {
			*list = ch->members;
			*n = ch->count;
			atomic_fetch_add_explicit(&ch->published, 1, memory_order_relaxed);
		}
	}
	return true;
}

/*
 * The locked half: message `id` (>= r->next_id) into the history and the
 * queue of each of its receivers.  Caller holds r->send.  A direct message
 * to a name unknown here is refused (PUBLISH_UNKNOWN) unless `known_id`:
 * an id given elsewhere (Redis) is used up even when nobody here takes it.
 */
static srv_publish_rc
put_as(srv_registry *r, uint64_t id, bool known_id, const srv_target *to, const char *from,
       const char *text, size_t text_len, const char *event, uint64_t sent_at_ms,
       pending_pushes *p)
{
	*p = (pending_pushes){ 0 };
	pthread_rwlock_rdlock(&r->table);
	srv_client **members, *one;
	size_t n;
	if (!receivers_of(r, to, &members, &n, &one) && !known_id) {
		pthread_rwlock_unlock(&r->table);
		return SRV_PUBLISH_UNKNOWN;
	}
	srv_msg *m = srv_msg_new(id, to, from, text, text_len, event, sent_at_ms);
	p->pushes = m == NULL ? NULL : malloc((n + 1) * sizeof(*p->pushes));
	if (p->pushes == NULL) {
		pthread_rwlock_unlock(&r->table);
		free(m);
		return SRV_PUBLISH_NOMEM;
	}
	if (id > r->next_id)
		count_gap(r, id - r->next_id);
	r->next_id = id + 1;
	/*
	 * References: one per queue the message goes into, and one for us while
	 * we work.  Counting each put as it happens would cost an atomic per
	 * client; instead start from the most it can be (every receiver, plus
	 * us) and give back, at the end, the puts that failed and our own.  The
	 * count never drops to zero early: it is never below the true number.
	 */
	atomic_store(&m->refs, (int)n + 1);
	srv_history_append(r->history, m);
	for (size_t i = 0; i < n; i++)
		put_into(r, members[i], m, p);
	atomic_fetch_add(&r->sent, 1);
	pthread_rwlock_unlock(&r->table);
	int unused = (int)(n - p->receivers) + 1;     /* and our own reference */
	if (atomic_fetch_sub(&m->refs, unused) == unused)
		free(m);             /* nobody took it (or everyone already has) */
	return SRV_PUBLISH_OK;
}

/* The half after the locks: the message is in every queue; now write it
 * where a socket waits. */
static void
push_all(pending_pushes *p)
{
	for (size_t i = 0; i < p->n_pushes; i++) {
		srv_client *c = p->pushes[i];
		pthread_mutex_lock(&c->push_lock);
		for (srv_pusher *pusher = c->pushers; pusher != NULL; pusher = pusher->next)
			pusher->push(pusher->ctx);
		pthread_mutex_unlock(&c->push_lock);
		atomic_fetch_sub(&c->refs, 1);
	}
	free(p->pushes);
}

srv_publish_rc
srv_registry_publish(srv_registry *r, const srv_target *to, const char *from,
                     const char *text, size_t text_len, const char *event,
                     uint64_t *id_out, size_t *receivers_out)
{
	uint64_t sent_at = srv_wall_clock_ms();      /* the clock read outside the lock */
	pending_pushes p;
	pthread_mutex_lock(&r->send);
	uint64_t id = r->next_id;
	srv_publish_rc rc = put_as(r, id, false, to, from, text, text_len, event, sent_at, &p);
	pthread_mutex_unlock(&r->send);
	if (rc != SRV_PUBLISH_OK)
		return rc;
	push_all(&p);
	if (id_out != NULL)
		*id_out = id;
	if (receivers_out != NULL)
		*receivers_out = p.receivers;
	return SRV_PUBLISH_OK;
}

bool
srv_registry_broadcast(srv_registry *r, const char *from, const char *text,
                       size_t text_len, uint64_t *id_out)
{
	srv_target room = { false, SRV_DEFAULT_CHANNEL };
	return srv_registry_publish(r, &room, from, text, text_len, NULL, id_out, NULL)
	       == SRV_PUBLISH_OK;
}

bool
srv_registry_deliver(srv_registry *r, uint64_t id, const srv_target *to, const char *from,
                     const char *text, size_t text_len, const char *event,
                     uint64_t sent_at_ms)
{
	if (sent_at_ms == 0)
		sent_at_ms = srv_wall_clock_ms();
	pending_pushes p = { 0 };
	srv_publish_rc rc = SRV_PUBLISH_OK;
	pthread_mutex_lock(&r->send);
	if (id >= r->next_id)                 /* else: delivered already */
		rc = put_as(r, id, true, to, from, text, text_len, event, sent_at_ms, &p);
	pthread_mutex_unlock(&r->send);
	if (rc == SRV_PUBLISH_OK)
		push_all(&p);
	return rc == SRV_PUBLISH_OK;
}

void
srv_registry_start_after(srv_registry *r, uint64_t last_id)
{
	pthread_mutex_lock(&r->send);
	if (last_id >= r->next_id)
		r->next_id = last_id + 1;
	pthread_mutex_unlock(&r->send);
}

void
srv_client_attach_pusher(srv_client *c, srv_pusher *p)
{
	pthread_mutex_lock(&c->push_lock);
	p->next = c->pushers;
	c->pushers = p;
	atomic_store(&c->has_pushers, true);
	if (p->kind == SRV_CLIENT_WS)
		atomic_fetch_add(&c->sessions, 1);
	pthread_mutex_unlock(&c->push_lock);
}

void
srv_client_detach_pusher(srv_client *c, srv_pusher *p)
{
	pthread_mutex_lock(&c->push_lock);
	for (srv_pusher **link = &c->pushers; *link != NULL; link = &(*link)->next) {
		if (*link == p) {
			*link = p->next;
			if (p->kind == SRV_CLIENT_WS)
				atomic_fetch_sub(&c->sessions, 1);
			break;
		}
	}
	atomic_store(&c->has_pushers, c->pushers != NULL);
	pthread_mutex_unlock(&c->push_lock);
}
