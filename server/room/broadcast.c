/*
 * broadcast.c - one message into every queue, then to the sockets that
 * wait for it (see broadcast.h).
 *
 * DESIGN
 * A broadcast has two halves, both in srv_registry_broadcast (or _deliver):
 *   under the locks   r->send (ids in order) and r->table (shared): the
 *                     message gets its id, goes into the history and into
 *                     every queue with queue_put_nowait (never blocks); the
 *                     clients that took it and have a pusher are collected,
 *                     each with a reference;
 *   after them        each collected client's pushers are called.
 * The pushers run outside r->send and r->table, so the next broadcast, a
 * join or the reaper never wait for somebody's socket.  A client's pusher
 * list has its own small lock, push_lock, held while a push runs, so that a
 * session that detaches knows no broadcast is still inside its pusher.
 */
#include "server/room/broadcast.h"
#include "server/room/client.h"
#include "server/common/clock.h"

#include <stdlib.h>

/* What the locked half hands to the half that pushes. */
typedef struct {
	srv_client **pushes;         /* clients to push to, each referenced */
	size_t n_pushes;
} pending_pushes;

/* Puts m into every client's queue; collects in p the clients that took it
 * and have a pusher.  Caller holds r->send and r->table (shared).  Returns
 * how many puts failed. */
static int
put_everywhere(srv_registry *r, srv_msg *m, pending_pushes *p)
{
	int failed = 0;
	for (size_t i = 0; i < r->bucket_count; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next) {
			if (queue_put_nowait(c->q, m) != QUEUE_OK) {
				failed++;
				srv_client_count_drops(r, c, 1);
			} else if (atomic_load(&c->has_pushers)) {
				atomic_fetch_add(&c->refs, 1);   /* kept until pushed */
				p->pushes[p->n_pushes++] = c;
			}
		}
	}
	return failed;
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
 * The locked half: message `id` (>= r->next_id) into the history and every
 * queue.  Caller holds r->send.  False when out of memory (nothing sent).
 */
static bool
put_as(srv_registry *r, uint64_t id, const char *from, const char *text,
       size_t text_len, uint64_t sent_at_ms, pending_pushes *p)
{
	srv_msg *m = srv_msg_new(id, from, text, text_len, sent_at_ms);
	pthread_rwlock_rdlock(&r->table);
	p->pushes = m == NULL ? NULL : malloc((r->client_count + 1) * sizeof(*p->pushes));
	p->n_pushes = 0;
	if (p->pushes == NULL) {
		pthread_rwlock_unlock(&r->table);
		free(m);
		return false;
	}
	if (id > r->next_id)
		count_gap(r, id - r->next_id);
	r->next_id = id + 1;
	/*
	 * References: one per queue the message goes into, and one for us while
	 * we work.  Counting each put as it happens would cost an atomic per
	 * client; instead start from the most it can be (every client, plus us)
	 * and give back, at the end, the puts that failed and our own.  The count
	 * never drops to zero early: it is never below the true number.
	 */
	atomic_store(&m->refs, (int)r->client_count + 1);
	srv_history_append(r->history, m);
	int failed = put_everywhere(r, m, p);
	atomic_fetch_add(&r->sent, 1);
	pthread_rwlock_unlock(&r->table);
	int unused = failed + 1;     /* and our own reference */
	if (atomic_fetch_sub(&m->refs, unused) == unused)
		free(m);             /* nobody took it (or everyone already has) */
	return true;
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

bool
srv_registry_broadcast(srv_registry *r, const char *from, const char *text,
                       size_t text_len, uint64_t *id_out)
{
	uint64_t sent_at = srv_wall_clock_ms();      /* the clock read outside the lock */
	pending_pushes p;
	pthread_mutex_lock(&r->send);
	uint64_t id = r->next_id;
	bool ok = put_as(r, id, from, text, text_len, sent_at, &p);
	pthread_mutex_unlock(&r->send);
	if (!ok)
		return false;
	push_all(&p);
	if (id_out != NULL)
		*id_out = id;
	return true;
}

bool
srv_registry_deliver(srv_registry *r, uint64_t id, const char *from, const char *text,
                     size_t text_len, uint64_t sent_at_ms)
{
	if (sent_at_ms == 0)
		sent_at_ms = srv_wall_clock_ms();
	pending_pushes p = { 0 };
	bool ok = true;
	pthread_mutex_lock(&r->send);
	if (id >= r->next_id)                 /* else: delivered already */
		ok = put_as(r, id, from, text, text_len, sent_at_ms, &p);
	pthread_mutex_unlock(&r->send);
	if (ok)
		push_all(&p);
	return ok;
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
			atomic_fetch_sub(&c->sessions, 1);
			break;
		}
	}
	atomic_store(&c->has_pushers, c->pushers != NULL);
	pthread_mutex_unlock(&c->push_lock);
}
