/*
 * registry.c - clients, their queues, and broadcast (see registry.h).
 *
 * DESIGN
 * The clients live in a hash table (name -> client, separate chaining) under
 * a read-write lock, r->table.  Looking a client up (every /get_msg) and
 * broadcasting only read the table, so they take it shared and never wait
 * for each other; adding a client (join), forgetting one (reap) and shutdown
 * take it exclusively.  Broadcasts are serialised by a second lock, r->send,
 * and ids are given out under it, so every queue receives messages in id
 * order.  A broadcast puts the message into every queue with
 * queue_put_nowait, which never blocks.
 *
 * A client's reference count is raised under r->table (find/join) and
 * lowered without any lock (release); the reaper frees only a client whose
 * count is zero, under the exclusive lock.  Taking a message touches no
 * registry lock at all: the taker holds a reference to its client and blocks
 * in the client's own queue, exactly like the seed's `q.get(timeout=10)`.
 *
 * A client's queue is a priority queue ordered by message id (queue.h's
 * QUEUE_PRIORITY): broadcasts put in id order anyway, so the heap only
 * matters for a message given back (srv_client_give_back), which takes its
 * old place again, before anything newer, however many come back at once.
 *
 * Pushing: a client with a socket of its own (a WebSocket session) attaches
 * a pusher.  A broadcast collects, under the locks, the clients that took
 * its message and have one (raising each one's reference count), lets the
 * locks go, and then calls each pusher from the broadcasting thread: the
 * write happens where the message is, without waking another thread.  The
 * pushers run outside r->send and r->table, so the next broadcast, a join or
 * the reaper never wait for somebody's socket.  A client's pusher list has
 * its own small lock, `push_lock`, held while a push runs, so that a session
 * that detaches knows no broadcast is still inside its pusher.
 *
 * Lock order: r->send, then r->table, then a queue's own mutex; and
 * separately push_lock, then whatever the pusher takes (its socket's lock,
 * then the queue's mutex).
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writers first */

#include "registry.h"
#include "history.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv_client {
	srv_client *next;            /* next in the same hash bucket */
	char name[SRV_NAME_MAX + 1];
	srv_client_kind kind;
	queue *q;                    /* of srv_msg *, bounded */
	atomic_int refs;             /* raised under r->table, lowered without it */
	_Atomic double last_seen;    /* srv_monotonic() of the last request */
	atomic_long dropped_unreported; /* missed since the last delivery */
	atomic_long dropped_total;
	atomic_long missed_unreported;  /* counted by a resume, not yet told */
	uint64_t missed_counted_below;  /* under r->send: every id below it that no
	                                   resume could give was counted once */
	pthread_mutex_t replay_lock; /* guards the replay */
	srv_msg **replay;            /* a resume's backlog, taken before the queue */
	size_t replay_len, replay_pos;
	atomic_bool has_replay;      /* replay_pos < replay_len, read without the lock */
	pthread_mutex_t push_lock;   /* guards pushers, held while one runs */
	srv_pusher *pushers;         /* attached sessions, usually 0 or 1 */
	atomic_bool has_pushers;     /* read by broadcasts under r->table only */
	atomic_int sessions;         /* pushers attached: WebSocket sessions */
	atomic_bool short_polling;   /* its last /get_msg asked timeout=0 */
	_Atomic double peak_window;  /* when the last high-water window began */
	atomic_size_t peak_last;     /* the most it held in that window */
};

struct srv_registry {
	pthread_rwlock_t table;      /* the table: shared to read, exclusive to change */
	pthread_mutex_t send;        /* one broadcast at a time, in id order */
	srv_client **buckets;
	size_t bucket_count;         /* a power of two */
	size_t client_count;
	long max_clients;
	long queue_size;
	bool shut_down;
	uint64_t next_id;            /* under r->send */
	srv_history *history;        /* under r->send: the last messages, for resumes */
	atomic_ullong sent, delivered, dropped, missed;
};

#define REGISTRY_INITIAL_BUCKETS 64

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

void
srv_msg_release(srv_msg *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
}

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

/* A message with no references yet; its JSON is rendered once, here. */
/* Milliseconds since 1970 on the wall clock: when a message was sent. */
static uint64_t
wall_clock_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static srv_msg *
msg_new(uint64_t id, const char *from, const char *text, size_t text_len,
        uint64_t sent_at_ms)
{
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":true,\"msg\":");
	http_buf_json_string(&json, text, text_len);
	http_buf_printf(&json, ",\"id\":%llu,\"from\":", (unsigned long long)id);
	http_buf_json_string(&json, from, strlen(from));
	http_buf_printf(&json, ",\"sent_at\":%llu", (unsigned long long)sent_at_ms);
	srv_msg *m = json.failed ? NULL : malloc(sizeof(*m) + json.len);
	if (m != NULL) {
		atomic_init(&m->refs, 0);
		m->id = id;
		m->json_len = json.len;
		memcpy(m->json, json.data, json.len);
	}
	http_buf_free(&json);
	return m;
}

size_t
srv_gap_tail(char tail[SRV_GAP_TAIL_MAX], const srv_gap *gap)
{
	int n = gap->missed > 0
		? snprintf(tail, SRV_GAP_TAIL_MAX, ",\"missed\":%ld,\"dropped\":%ld}", gap->missed, gap->dropped)
		: snprintf(tail, SRV_GAP_TAIL_MAX, ",\"dropped\":%ld}", gap->dropped);
	return n > 0 ? (size_t)n : 0;
}

void
srv_msg_append_json(http_buf *b, const srv_msg *m, const srv_gap *gap)
{
	char tail[SRV_GAP_TAIL_MAX];
	http_buf_append(b, m->json, m->json_len);
	http_buf_append(b, tail, srv_gap_tail(tail, gap));
}

/* ------------------------------------------------------------------ */
/* The table; every function here needs r->table held.                */
/* ------------------------------------------------------------------ */

/* FNV-1a: simple, and good enough for names. */
static size_t
name_hash(const char *name)
{
	size_t h = 14695981039346656037ULL & SIZE_MAX;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * (1099511628211ULL & SIZE_MAX);
	return h;
}

static srv_client **
bucket_of(srv_registry *r, const char *name)
{
	return &r->buckets[name_hash(name) & (r->bucket_count - 1)];
}

static srv_client *
table_find(srv_registry *r, const char *name)
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
			srv_client **b = &buckets[name_hash(c->name) & (count - 1)];
			c->next = *b;
			*b = c;
			c = next;
		}
	}
	free(r->buckets);
	r->buckets = buckets;
	r->bucket_count = count;
}

/* Releases what is left of a resume's backlog.  Caller holds replay_lock
 * (or is the only user). */
static void
replay_clear(srv_client *c)
{
	for (size_t i = c->replay_pos; i < c->replay_len; i++)
		srv_msg_release(c->replay[i]);
	free(c->replay);
	c->replay = NULL;
	c->replay_len = c->replay_pos = 0;
	atomic_store(&c->has_replay, false);
}

static void
client_free(srv_client *c)
{
	replay_clear(c);
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
	c->kind = kind;
	pthread_mutex_init(&c->push_lock, NULL);
	pthread_mutex_init(&c->replay_lock, NULL);
	return c;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
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
	if (r->buckets == NULL || r->history == NULL || !table_lock_init(&r->table)) {
		free(r->buckets);
		srv_history_free(r->history);
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
	srv_history_free(r->history);
	pthread_rwlock_destroy(&r->table);
	pthread_mutex_destroy(&r->send);
	free(r);
}

/* Caller holds r->table exclusively.  A new client in the table, or NULL
 * with the reason in *why. */
static srv_client *
table_add(srv_registry *r, const char *name, srv_client_kind kind, srv_join_rc *why)
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
	else if ((c = table_find(r, name)) == NULL)
		c = table_add(r, name, kind, why);
	if (c != NULL) {
		if (kind != SRV_CLIENT_POLL)
			c->kind = kind;     /* a stream or socket: what /stats shows */
		c->refs++;
		c->last_seen = srv_monotonic();
	}
	pthread_rwlock_unlock(&r->table);
	return c;
}

srv_client *
srv_registry_find(srv_registry *r, const char *name)
{
	pthread_rwlock_rdlock(&r->table);
	srv_client *c = table_find(r, name);
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

/* Puts m into every client's queue; collects in `pushes` (each with a
 * reference) the clients that took it and have a pusher.  Caller holds
 * r->send and r->table (shared).  Returns how many puts failed. */
static int
put_everywhere(srv_registry *r, srv_msg *m, srv_client **pushes, size_t *n_pushes)
{
	int failed = 0;
	for (size_t i = 0; i < r->bucket_count; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next) {
			if (queue_put_nowait(c->q, m) != QUEUE_OK) {
				failed++;
				atomic_fetch_add(&c->dropped_unreported, 1);
				atomic_fetch_add(&c->dropped_total, 1);
			} else if (atomic_load(&c->has_pushers)) {
				atomic_fetch_add(&c->refs, 1);   /* kept until pushed */
				pushes[(*n_pushes)++] = c;
			}
		}
	}
	return failed;
}

/* Calls every pusher of c (outside the registry's locks). */
static void
push_to(srv_client *c)
{
	pthread_mutex_lock(&c->push_lock);
	for (srv_pusher *p = c->pushers; p != NULL; p = p->next)
		p->push(p->ctx);
	pthread_mutex_unlock(&c->push_lock);
}

/* Every client missed `gap` ids that will never come (a Redis stream
 * trimmed them before this node read them): count them as drops.  Caller
 * holds r->send and r->table. */
static void
count_gap(srv_registry *r, uint64_t gap)
{
	for (size_t i = 0; i < r->bucket_count; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next) {
			atomic_fetch_add(&c->dropped_unreported, (long)gap);
			atomic_fetch_add(&c->dropped_total, (long)gap);
			atomic_fetch_add(&r->dropped, gap);
		}
	}
}

/*
 * The broadcast itself, as message `id` (>= r->next_id).  Caller holds
 * r->send, which this lets go.
 */
static bool
broadcast_as(srv_registry *r, uint64_t id, const char *from, const char *text,
             size_t text_len, uint64_t sent_at_ms)
{
	srv_msg *m = msg_new(id, from, text, text_len, sent_at_ms);
	pthread_rwlock_rdlock(&r->table);
	srv_client **pushes = m == NULL ? NULL
	                    : malloc((r->client_count + 1) * sizeof(*pushes));
	if (pushes == NULL) {
		pthread_rwlock_unlock(&r->table);
		pthread_mutex_unlock(&r->send);
		free(m);
		return false;        /* out of memory: nothing was sent */
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
	size_t n_pushes = 0;
	int failed = put_everywhere(r, m, pushes, &n_pushes);
	if (failed > 0)
		atomic_fetch_add(&r->dropped, (unsigned long long)failed);
	atomic_fetch_add(&r->sent, 1);
	pthread_rwlock_unlock(&r->table);
	pthread_mutex_unlock(&r->send);
	int unused = failed + 1;     /* and our own reference */
	if (atomic_fetch_sub(&m->refs, unused) == unused)
		free(m);             /* nobody took it (or everyone already has) */
	/* The message is in every queue; now write it where a socket waits. */
	for (size_t i = 0; i < n_pushes; i++) {
		push_to(pushes[i]);
		atomic_fetch_sub(&pushes[i]->refs, 1);
	}
	free(pushes);
	return true;
}

bool
srv_registry_broadcast(srv_registry *r, const char *from, const char *text,
                       size_t text_len, uint64_t *id_out)
{
	uint64_t sent_at = wall_clock_ms();      /* the clock read outside the lock */
	pthread_mutex_lock(&r->send);
	uint64_t id = r->next_id;
	if (!broadcast_as(r, id, from, text, text_len, sent_at))
		return false;
	if (id_out != NULL)
		*id_out = id;
	return true;
}

bool
srv_registry_deliver(srv_registry *r, uint64_t id, const char *from, const char *text,
                     size_t text_len, uint64_t sent_at_ms)
{
	pthread_mutex_lock(&r->send);
	if (id < r->next_id) {
		pthread_mutex_unlock(&r->send);
		return true;         /* delivered already */
	}
	return broadcast_as(r, id, from, text, text_len,
	                    sent_at_ms != 0 ? sent_at_ms : wall_clock_ms());
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

/* The next message of a resume's backlog, or NULL when there is none. */
static srv_msg *
replay_next(srv_client *c)
{
	if (!atomic_load(&c->has_replay))
		return NULL;
	srv_msg *m = NULL;
	pthread_mutex_lock(&c->replay_lock);
	if (c->replay_pos < c->replay_len)
		m = c->replay[c->replay_pos++];
	if (c->replay_pos == c->replay_len)
		replay_clear(c);
	pthread_mutex_unlock(&c->replay_lock);
	return m;
}

queue_rc
srv_client_take(srv_registry *r, srv_client *c, double timeout_s,
                const atomic_bool *cancel, srv_msg **m_out, srv_gap *gap_out)
{
	void *item = replay_next(c);
	queue_rc rc = item != NULL ? QUEUE_OK
	            : timeout_s == 0 ? queue_get_nowait(c->q, &item)   /* no clock needed */
	            : queue_get_cancellable(c->q, &item, &timeout_s, cancel);
	if (rc == QUEUE_OK) {
		*m_out = item;
		gap_out->dropped = atomic_exchange(&c->dropped_unreported, 0);
		gap_out->missed = atomic_exchange(&c->missed_unreported, 0);
		atomic_fetch_add(&r->delivered, 1);
	}
	return rc;
}

void
srv_client_wake(srv_client *c)
{
	queue_wake_getters(c->q);
}

/*
 * Puts m back into the resume backlog if it belongs there: when the backlog
 * still holds messages newer than m (m came from it).  Caller holds
 * replay_lock.  False when m belongs to the queue.
 */
static bool
replay_put_back(srv_client *c, srv_msg *m)
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

void
srv_client_give_back(srv_registry *r, srv_client *c, srv_msg *m, srv_gap gap)
{
	atomic_fetch_add(&c->dropped_unreported, gap.dropped);
	atomic_fetch_add(&c->missed_unreported, gap.missed);
	atomic_fetch_sub(&r->delivered, 1);
	pthread_mutex_lock(&c->replay_lock);
	bool in_replay = replay_put_back(c, m);
	if (in_replay)
		atomic_store(&c->has_replay, true);
	pthread_mutex_unlock(&c->replay_lock);
	if (in_replay)
		return;
	if (queue_give_back(c->q, m) != QUEUE_OK) {
		/* Shut down (the server stops) or out of memory: it is lost, and
		 * counted as a drop so that nobody is told otherwise. */
		srv_msg_release(m);
		atomic_fetch_add(&c->dropped_unreported, 1);
		atomic_fetch_add(&c->dropped_total, 1);
		atomic_fetch_add(&r->dropped, 1);
	}
}

/* For qsort: messages in id order. */
static int
msg_ptr_id_order(const void *a, const void *b)
{
	return msg_id_order(*(srv_msg *const *)a, *(srv_msg *const *)b);
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
		replay_clear(c);
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
		replay_clear(c);
	pthread_mutex_unlock(&c->replay_lock);
	/* Every id above `since` is now delivered from the backlog or the
	 * queue, or counted here: earlier drops are settled. */
	atomic_store(&c->dropped_unreported, 0);
	atomic_fetch_add(&c->missed_unreported, missed);
	atomic_fetch_add(&r->missed, (unsigned long long)missed);
	pthread_mutex_unlock(&r->send);
	return missed;
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
			if (atomic_load(&c->refs) == 0 && now - atomic_load(&c->last_seen) > ttl_s) {
				*link = c->next;
				client_free(c);
				r->client_count--;
				removed++;
			} else {
				link = &c->next;
			}
		}
	}
	pthread_rwlock_unlock(&r->table);
	return removed;
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
}

static const char *
kind_name(srv_client_kind kind)
{
	return kind == SRV_CLIENT_WS ? "ws" : kind == SRV_CLIENT_SSE ? "sse" : "poll";
}

void
srv_client_note_poll(srv_client *c, double timeout_s)
{
	atomic_store(&c->short_polling, timeout_s == 0);
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
srv_registry_clients_json(srv_registry *r, http_buf *b, const char *only)
{
	http_buf_puts(b, "[");
	bool first = true;
	double now = srv_monotonic();
	pthread_rwlock_rdlock(&r->table);
	for (size_t i = 0; i < r->bucket_count; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next) {
			if (only != NULL && strcmp(c->name, only) != 0)
				continue;
			queue_stats qs;
			queue_get_stats(c->q, &qs);
			http_buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
			first = false;
			http_buf_json_string(b, c->name, strlen(c->name));
			http_buf_printf(b, ",\"kind\":\"%s\",\"short\":%s,\"queue\":%zu,"
			                "\"peak\":%zu,\"maxsize\":%ld,\"dropped\":%ld,"
			                "\"waiting\":%u,\"sessions\":%d,\"idle\":%.1f}",
			                kind_name(c->kind),
			                c->kind == SRV_CLIENT_POLL && atomic_load(&c->short_polling)
			                    ? "true" : "false",
			                qs.qsize, recent_peak(c, &qs, now), qs.maxsize,
			                atomic_load(&c->dropped_total), qs.waiting_getters,
			                atomic_load(&c->sessions), now - atomic_load(&c->last_seen));
		}
	}
	pthread_rwlock_unlock(&r->table);
	http_buf_puts(b, "]");
}
