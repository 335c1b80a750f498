/*
 * registry.c - the room's table of clients (see registry.h).
 *
 * DESIGN
 * The clients live in a hash table (name -> client, separate chaining) under
 * a read-write lock, r->table.  Looking a client up (every /get_msg) and
 * broadcasting only read the table, so they take it shared and never wait
 * for each other; adding a client (join), forgetting one (reap) and shutdown
 * take it exclusively.
 *
 * A client's reference count is raised under r->table (find/join) and
 * lowered without any lock (release); the reaper frees only a client whose
 * count is zero, under the exclusive lock.  Taking a message touches no
 * registry lock at all: the taker holds a reference to its client and blocks
 * in the client's own queue, exactly like the seed's `q.get(timeout=10)`.
 *
 * A client's queue is a priority queue ordered by message id (queue.h's
 * QUEUE_PRIORITY): broadcasts put in id order anyway, so the heap only
 * matters for a message given back (delivery.h), which takes its old place
 * again, before anything newer, however many come back at once.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writers first */

#include "server/room/registry.h"
#include "server/room/client.h"
#include "server/common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGISTRY_INITIAL_BUCKETS 64

/* A client's queue is a priority queue on message ids: messages are put in
 * id order anyway, and one given back takes its old place again. */
static int
msg_id_order(const void *a, const void *b)
{
	uint64_t x = ((const srv_msg *)a)->id, y = ((const srv_msg *)b)->id;
	return x < y ? -1 : x > y;
}

/* The queue's destructor for messages still queued when it drops them. */
static void
release_queued_msg(void *item)
{
	srv_msg_release(item);
}

/* ------------------------------------------------------------------ */
/* The table; every function here needs r->table held.                */
/* ------------------------------------------------------------------ */

static srv_client **
bucket_of(srv_registry *r, const char *name)
{
	return &r->buckets[srv_name_hash(name) & (r->bucket_count - 1)];
}

srv_client *
srv_table_find(srv_registry *r, const char *name)
{
	for (srv_client *c = *bucket_of(r, name); c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Doubles the buckets once there are more clients than buckets. */
static void
table_grow(srv_registry *r)
{
	size_t count = r->bucket_count * 2;
	srv_client **buckets = calloc(count, sizeof(*buckets));
	if (buckets == NULL)
		return;              /* longer chains, still correct */
	for (size_t i = 0; i < r->bucket_count; i++) {
		srv_client *c = r->buckets[i];
		while (c != NULL) {
			srv_client *next = c->next;
			srv_client **b = &buckets[c->name_hash & (count - 1)];
			c->next = *b;
			*b = c;
			c = next;
		}
	}
	free(r->buckets);
	r->buckets = buckets;
	r->bucket_count = count;
}

static void
client_free(srv_client *c)
{
	free(c->subs);
	srv_replay_clear(c);
	pthread_mutex_destroy(&c->replay_lock);
	pthread_mutex_destroy(&c->push_lock);
	queue_free(c->q);
	free(c);
}

static srv_client *
client_new(srv_registry *r, const char *name, srv_client_kind kind)
{
	srv_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->q = queue_new_kind(QUEUE_PRIORITY, r->queue_size, msg_id_order, release_queued_msg);
	if (c->q == NULL) {
		free(c);
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->name_hash = srv_name_hash(c->name);
	c->kind = kind;
	pthread_mutex_init(&c->push_lock, NULL);
	pthread_mutex_init(&c->replay_lock, NULL);
	return c;
}

void
srv_client_count_drops(srv_registry *r, srv_client *c, long n)
{
	atomic_fetch_add(&c->dropped_unreported, n);
	atomic_fetch_add(&c->dropped_total, n);
	atomic_fetch_add(&r->dropped, (unsigned long long)n);
}

/* ------------------------------------------------------------------ */
/* The registry                                                        */
/* ------------------------------------------------------------------ */

/* Writers (join, reap) go first, so thousands of lookups cannot starve a
 * new client out of the table. */
static bool
table_lock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;
	if (pthread_rwlockattr_init(&attr) != 0)
		return false;
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	bool ok = pthread_rwlock_init(lock, &attr) == 0;
	pthread_rwlockattr_destroy(&attr);
	return ok;
}

srv_registry *
srv_registry_new(long queue_size, long max_clients, long history)
{
	srv_registry *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->buckets = calloc(REGISTRY_INITIAL_BUCKETS, sizeof(*r->buckets));
	r->history = srv_history_new(history > 0 ? (size_t)history : 0);
	if (r->buckets == NULL || r->history == NULL || !srv_channels_init(r) ||
	    !table_lock_init(&r->table)) {
		free(r->buckets);
		srv_history_free(r->history);
		free(r->chan_buckets);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->send, NULL);
	r->bucket_count = REGISTRY_INITIAL_BUCKETS;
	r->queue_size = queue_size;
	r->max_clients = max_clients;
	r->next_id = 1;
	return r;
}

void
srv_registry_free(srv_registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->bucket_count; i++) {
		srv_client *c = r->buckets[i];
		while (c != NULL) {
			srv_client *next = c->next;
			client_free(c);
			c = next;
		}
	}
	free(r->buckets);
	srv_channels_free(r);
	srv_history_free(r->history);
	pthread_rwlock_destroy(&r->table);
	pthread_mutex_destroy(&r->send);
	free(r);
}

/* Why a list of channels was refused, as a join says it. */
static srv_join_rc
join_rc_of(srv_sub_rc rc)
{
	return rc == SRV_SUB_NO_ROOM ? SRV_JOIN_NO_CHANNEL_ROOM
	     : rc == SRV_SUB_NOMEM ? SRV_JOIN_NOMEM : SRV_JOIN_BAD_CHANNELS;
}

/* Caller holds r->table exclusively.  A new client in the table, in the
 * channels of `list` (NULL: the default channel), or NULL with the reason
 * in *why. */
static srv_client *
table_add(srv_registry *r, const char *name, srv_client_kind kind,
          const srv_channel_list *list, srv_join_rc *why)
{
	if ((long)r->client_count >= r->max_clients) {
		*why = SRV_JOIN_FULL;
		return NULL;
	}
	srv_client *c = client_new(r, name, kind);
	if (c == NULL) {
		*why = SRV_JOIN_NOMEM;
		return NULL;
	}
	srv_sub_rc rc = srv_client_set_channels_locked(r, c, list);
	if (rc != SRV_SUB_OK) {
		srv_client_leave_all(r, c);
		client_free(c);
		*why = join_rc_of(rc);
		return NULL;
	}
	srv_client **b = bucket_of(r, name);
	c->next = *b;
	*b = c;
	if (++r->client_count > r->bucket_count)
		table_grow(r);
	return c;
}

srv_client *
srv_registry_join(srv_registry *r, const char *name, srv_client_kind kind,
                  srv_join_rc *why)
{
	return srv_registry_join_in(r, name, kind, NULL, why);
}

srv_client *
srv_registry_join_in(srv_registry *r, const char *name, srv_client_kind kind,
                     const srv_channel_list *channels, srv_join_rc *why)
{
	return srv_registry_join_full(r, name, kind, channels, NULL, why);
}

srv_client *
srv_registry_join_full(srv_registry *r, const char *name, srv_client_kind kind,
                       const srv_channel_list *channels, const srv_channel_list *new_channels,
                       srv_join_rc *why)
{
	srv_join_rc ignored;
	if (why == NULL)
		why = &ignored;
	*why = SRV_JOIN_OK;
	size_t len = strlen(name);
	if (len == 0 || len > SRV_NAME_MAX) {
		*why = SRV_JOIN_BAD_NAME;
		return NULL;
	}
	pthread_rwlock_wrlock(&r->table);
	srv_client *c = NULL;
	if (r->shut_down)
		*why = SRV_JOIN_STOPPING;
	else if ((c = srv_table_find(r, name)) == NULL)
		c = table_add(r, name, kind, channels != NULL ? channels : new_channels, why);
	else if (channels != NULL) {
		srv_sub_rc rc = srv_client_set_channels_locked(r, c, channels);
		if (rc != SRV_SUB_OK) {
			*why = join_rc_of(rc);
			c = NULL;
		}
	}
	if (c != NULL) {
		if (kind != SRV_CLIENT_POLL)
			c->kind = kind;     /* a stream or socket: what /stats shows */
		c->refs++;
		c->last_seen = srv_monotonic();
		atomic_store(&c->leaving, false);   /* back again: it stays */
	}
	pthread_rwlock_unlock(&r->table);
	return c;
}

srv_client *
srv_registry_find(srv_registry *r, const char *name)
{
	pthread_rwlock_rdlock(&r->table);
	srv_client *c = srv_table_find(r, name);
	if (c != NULL) {
		c->refs++;
		c->last_seen = srv_monotonic();
	}
	pthread_rwlock_unlock(&r->table);
	return c;
}

/*
 * No lock here: every /get_msg ends with a release, and with thousands of
 * waiting clients a lock taken per request becomes a queue of threads of its
 * own.  Safe because the reaper only frees a client whose count is zero,
 * looked at under the exclusive r->table, and a holder touches the client only before its
 * decrement.
 */
void
srv_client_release(srv_registry *r, srv_client *c)
{
	(void)r;
	if (c == NULL)
		return;
	atomic_store(&c->last_seen, srv_monotonic());
	atomic_fetch_sub(&c->refs, 1);
}

const char *
srv_client_name(const srv_client *c)
{
	return c->name;
}

/* Takes *link's client out of the table and frees it (r->table held
 * exclusively, nobody holding the client). */
static void
unlink_client(srv_registry *r, srv_client **link)
{
	srv_client *c = *link;
	*link = c->next;
	srv_client_leave_all(r, c);
	client_free(c);
	r->client_count--;
}

size_t
srv_registry_reap(srv_registry *r, double ttl_s)
{
	size_t removed = 0;
	pthread_rwlock_wrlock(&r->table);
	double now = srv_monotonic();
	for (size_t i = 0; i < r->bucket_count; i++) {
		srv_client **link = &r->buckets[i];
		while (*link != NULL) {
			srv_client *c = *link;
			bool gone = atomic_load(&c->leaving) || now - atomic_load(&c->last_seen) > ttl_s;
			if (atomic_load(&c->refs) == 0 && gone) {
				unlink_client(r, link);
				removed++;
			} else {
				link = &c->next;
			}
		}
	}
	pthread_rwlock_unlock(&r->table);
	return removed;
}

srv_leave_rc
srv_registry_leave(srv_registry *r, const char *name)
{
	srv_leave_rc rc = SRV_LEAVE_UNKNOWN;
	pthread_rwlock_wrlock(&r->table);
	for (srv_client **link = bucket_of(r, name); *link != NULL; link = &(*link)->next) {
		srv_client *c = *link;
		if (strcmp(c->name, name) != 0)
			continue;
		if (atomic_load(&c->refs) == 0) {
			unlink_client(r, link);
			rc = SRV_LEFT;
		} else {
			atomic_store(&c->leaving, true);   /* the reaper, once it is let go */
			rc = SRV_LEAVING;
		}
		break;
	}
	pthread_rwlock_unlock(&r->table);
	return rc;
}

void
srv_registry_shutdown(srv_registry *r)
{
	pthread_rwlock_wrlock(&r->table);
	r->shut_down = true;
	for (size_t i = 0; i < r->bucket_count; i++)
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next)
			queue_shutdown(c->q, false);
	pthread_rwlock_unlock(&r->table);
}

void
srv_registry_counts_get(srv_registry *r, srv_registry_counts *out)
{
	out->sent = atomic_load(&r->sent);
	out->delivered = atomic_load(&r->delivered);
	out->dropped = atomic_load(&r->dropped);
	out->missed = atomic_load(&r->missed);
	pthread_mutex_lock(&r->send);
	out->last_id = r->next_id - 1;
	out->history = srv_history_count(r->history);
	pthread_mutex_unlock(&r->send);
	pthread_rwlock_rdlock(&r->table);
	out->clients = r->client_count;
	pthread_rwlock_unlock(&r->table);
	out->max_clients = r->max_clients;
	for (int i = 0; i < 3; i++)
		out->started[i] = atomic_load(&r->started[i]);
}

/*
 * The most messages c's queue held at once lately: in the window now open
 * (the queue's high-water mark) or the one before it.  A window lasts at
 * least SRV_PEAK_WINDOW seconds and is closed by the first look after
 * that, so a burst that fills and drains between two looks at /stats
 * still shows, in every look for a second or more.
 */
#define SRV_PEAK_WINDOW 1.0

static size_t
recent_peak(srv_client *c, const queue_stats *qs, double now)
{
	double began = atomic_load(&c->peak_window);
	if (now - began >= SRV_PEAK_WINDOW &&
	    atomic_compare_exchange_strong(&c->peak_window, &began, now))
		atomic_store(&c->peak_last, queue_take_high_water(c->q));
	size_t last = atomic_load(&c->peak_last);
	return last > qs->high_water ? last : qs->high_water;
}


void
srv_registry_visit(srv_registry *r, const char *only,
                   void (*fn)(const srv_client_info *info, void *ctx), void *ctx)
{
	double now = srv_monotonic();
	pthread_rwlock_rdlock(&r->table);
	for (size_t i = 0; i < r->bucket_count; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next) {
			if (only != NULL && strcmp(c->name, only) != 0)
				continue;
			queue_stats qs;
			queue_get_stats(c->q, &qs);
			srv_client_info info = {
				.name = c->name,
				.kind = c->kind,
				.short_polling = c->kind == SRV_CLIENT_POLL && atomic_load(&c->short_polling),
				.queued = qs.qsize,
				.peak = recent_peak(c, &qs, now),
				.maxsize = qs.maxsize,
				.dropped = atomic_load(&c->dropped_total),
				.waiting = qs.waiting_getters,
				.sessions = atomic_load(&c->sessions),
				.sse_open = atomic_load(&c->sse_open),
				.polls_waiting = atomic_load(&c->polls_waiting),
				.idle = now - atomic_load(&c->last_seen),
			};
			fn(&info, ctx);
		}
	}
	pthread_rwlock_unlock(&r->table);
}

const srv_delay *
srv_registry_delay(srv_registry *r)
{
	return &r->delay;
}

/* Bigger first, then by name. */
static int
by_size(const void *a, const void *b)
{
	const srv_channel_info *x = a, *y = b;
	if (x->subscribers != y->subscribers)
		return x->subscribers > y->subscribers ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t
srv_registry_top_channels(srv_registry *r, srv_channel_info *out, size_t max)
{
	size_t n = 0;
	pthread_rwlock_rdlock(&r->table);
	for (size_t i = 0; i < r->chan_bucket_count; i++) {
		for (srv_channel *ch = r->chan_buckets[i]; ch != NULL; ch = ch->next) {
			srv_channel_info info = { .subscribers = ch->count,
			                          .published = atomic_load(&ch->published) };
			memcpy(info.name, ch->name, sizeof(info.name));
			if (n < max) {
				out[n++] = info;
				qsort(out, n, sizeof(*out), by_size);
			} else if (max > 0 && by_size(&info, &out[max - 1]) < 0) {
				out[max - 1] = info;            /* bigger than the smallest kept */
				qsort(out, n, sizeof(*out), by_size);
			}
		}
	}
	pthread_rwlock_unlock(&r->table);
	return n;
}
