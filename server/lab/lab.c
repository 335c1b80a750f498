/*
 * lab.c - the queue lab's queues (lab.h): a small table of bounded FIFO
 * queues, each a plain queue.h queue, plus the counters that keep a
 * classroom from tying up the server.
 *
 * The table is a linked list under one mutex: it holds at most
 * SRV_LAB_MAX_QUEUES, and the mutex is never held while a call waits in a
 * queue (the calls run on a reference, outside the lock).
 */
#include "server/lab/lab.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/common/thread.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct srv_lab_queue {
	srv_lab_queue *next;
	char id[SRV_LAB_ID_SIZE];
	queue *q;                    /* of srv_lab_item * */
	long refs;                   /* under lab->lock */
	double last_used;            /* under lab->lock: srv_monotonic() */
	bool removed;                /* under lab->lock: out of the table */
	atomic_ulong puts;           /* puts numbered so far */
};

struct srv_lab {
	pthread_mutex_t lock;
	srv_lab_queue *queues;
	size_t count;
	long blocked;                /* calls holding a blocking slot */
	long max_waiting;            /* the most blocked at once (set once) */
	bool stopping;
	pthread_cond_t stopped;      /* signalled by srv_lab_stop (the reaper waits) */
};

srv_lab *
srv_lab_new(long max_waiting)
{
	if (max_waiting < 1 || max_waiting > SRV_LAB_MAX_WAITING_MAX)
		return NULL;
	srv_lab *lab = calloc(1, sizeof(*lab));
	if (lab == NULL)
		return NULL;
	lab->max_waiting = max_waiting;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	bool ok = pthread_mutex_init(&lab->lock, NULL) == 0 &&
	          pthread_cond_init(&lab->stopped, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!ok) {
		free(lab);
		return NULL;
	}
	return lab;
}

static void
free_queue(srv_lab_queue *lq)
{
	queue_free(lq->q);            /* frees the items left (free_item = free) */
	free(lq);
}

void
srv_lab_free(srv_lab *lab)
{
	if (lab == NULL)
		return;
	for (srv_lab_queue *lq = lab->queues, *next; lq != NULL; lq = next) {
		next = lq->next;
		free_queue(lq);
	}
	pthread_cond_destroy(&lab->stopped);
	pthread_mutex_destroy(&lab->lock);
	free(lab);
}

/* Under lab->lock. */
static srv_lab_queue *
find_locked(srv_lab *lab, const char *id)
{
	for (srv_lab_queue *lq = lab->queues; lq != NULL; lq = lq->next)
		if (strcmp(lq->id, id) == 0)
			return lq;
	return NULL;
}

/* Eight random hex digits, not yet in the table (under lab->lock). */
static void
new_id_locked(srv_lab *lab, char id[SRV_LAB_ID_SIZE])
{
	do {
		unsigned char r[4] = { 0 };
		if (getentropy(r, sizeof(r)) != 0) {      /* no entropy: count instead */
			static_assert(SRV_LAB_MAX_QUEUES < 256, "one byte numbers a queue");
			r[3] = (unsigned char)lab->count;
		}
		snprintf(id, SRV_LAB_ID_SIZE, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
	} while (find_locked(lab, id) != NULL);
}

srv_lab_rc
srv_lab_create(srv_lab *lab, long maxsize, char id[SRV_LAB_ID_SIZE])
{
	if (maxsize < 1 || maxsize > SRV_LAB_MAX_SIZE)
		return SRV_LAB_BAD_SIZE;
	srv_lab_queue *lq = calloc(1, sizeof(*lq));
	if (lq == NULL || (lq->q = queue_new(maxsize, free)) == NULL) {
		free(lq);
		return SRV_LAB_NOMEM;
	}
	pthread_mutex_lock(&lab->lock);
	srv_lab_rc rc = lab->stopping ? SRV_LAB_STOPPING
	              : lab->count >= SRV_LAB_MAX_QUEUES ? SRV_LAB_TOO_MANY : SRV_LAB_OK;
	if (rc == SRV_LAB_OK) {
		new_id_locked(lab, lq->id);
		memcpy(id, lq->id, SRV_LAB_ID_SIZE);
		lq->last_used = srv_monotonic();
		lq->next = lab->queues;
		lab->queues = lq;
		lab->count++;
	}
	pthread_mutex_unlock(&lab->lock);
	if (rc != SRV_LAB_OK)
		free_queue(lq);
	return rc;
}

srv_lab_queue *
srv_lab_acquire(srv_lab *lab, const char *id)
{
	pthread_mutex_lock(&lab->lock);
	srv_lab_queue *lq = find_locked(lab, id);
	if (lq != NULL) {
		lq->refs++;
		lq->last_used = srv_monotonic();
	}
	pthread_mutex_unlock(&lab->lock);
	return lq;
}

void
srv_lab_release(srv_lab *lab, srv_lab_queue *lq)
{
	pthread_mutex_lock(&lab->lock);
	lq->last_used = srv_monotonic();
	bool last = --lq->refs == 0 && lq->removed;
	pthread_mutex_unlock(&lab->lock);
	if (last)
		free_queue(lq);
}

bool
srv_lab_block(srv_lab *lab)
{
	pthread_mutex_lock(&lab->lock);
	bool taken = lab->blocked < lab->max_waiting;
	if (taken)
		lab->blocked++;
	pthread_mutex_unlock(&lab->lock);
	return taken;
}

void
srv_lab_unblock(srv_lab *lab)
{
	pthread_mutex_lock(&lab->lock);
	lab->blocked--;
	pthread_mutex_unlock(&lab->lock);
}

/* ------------------------------------------------------------------ */
/* The queue calls                                                     */
/* ------------------------------------------------------------------ */

queue_rc
srv_lab_put(srv_lab_queue *lq, const char *text, bool block, double timeout_s,
            unsigned long *put_no)
{
	size_t len = strlen(text);
	if (len > SRV_LAB_ITEM_MAX)
		return QUEUE_EINVAL;
	srv_lab_item *item = malloc(sizeof(*item) + len + 1);
	if (item == NULL)
		return QUEUE_ENOMEM;
	memcpy(item->text, text, len + 1);
	item->put_no = atomic_fetch_add(&lq->puts, 1) + 1;   /* a ticket, taken when called */
	*put_no = item->put_no;
	queue_rc rc = queue_put(lq->q, item, block, block ? &timeout_s : NULL);
	if (rc != QUEUE_OK)
		free(item);                  /* not taken: still ours */
	return rc;
}

queue *
srv_lab_q(srv_lab_queue *lq)
{
	return lq->q;
}

/*
 * Ends every call waiting on lq: an immediate shutdown wakes gets and puts
 * (they return QUEUE_SHUTDOWN) and drops the items; the tasks still open
 * (items taken but never task_done) are then marked done, so a join returns.
 */
static void
release_waiters(srv_lab_queue *lq)
{
	queue_shutdown(lq->q, true);
	while (queue_task_done(lq->q) == QUEUE_OK)
		;
}

/* Takes lq out of the table (under lab->lock); true when it can be freed
 * now, false when a reference will free it. */
static bool
unlink_locked(srv_lab *lab, srv_lab_queue *lq)
{
	for (srv_lab_queue **p = &lab->queues; *p != NULL; p = &(*p)->next) {
		if (*p == lq) {
			*p = lq->next;
			break;
		}
	}
	lab->count--;
	lq->removed = true;
	return lq->refs == 0;
}

bool
srv_lab_delete(srv_lab *lab, const char *id)
{
	pthread_mutex_lock(&lab->lock);
	srv_lab_queue *lq = find_locked(lab, id);
	bool free_now = false;
	if (lq != NULL) {
		release_waiters(lq);      /* a queue's lock after the lab's: never the reverse */
		free_now = unlink_locked(lab, lq);
	}
	pthread_mutex_unlock(&lab->lock);
	if (free_now)
		free_queue(lq);
	return lq != NULL;
}

size_t
srv_lab_purge(srv_lab *lab)
{
	srv_lab_queue *gone = NULL;
	size_t removed = 0;
	pthread_mutex_lock(&lab->lock);
	while (lab->queues != NULL) {
		srv_lab_queue *lq = lab->queues;
		release_waiters(lq);          /* a queue's lock after the lab's, as in delete */
		if (unlink_locked(lab, lq)) {
			lq->next = gone;
			gone = lq;
		}
		removed++;
	}
	pthread_mutex_unlock(&lab->lock);
	for (srv_lab_queue *lq = gone, *next; lq != NULL; lq = next) {
		next = lq->next;
		free_queue(lq);
	}
	return removed;
}

size_t
srv_lab_reap(srv_lab *lab, double idle_s)
{
	double now = srv_monotonic();
	srv_lab_queue *gone = NULL;
	size_t removed = 0;
	pthread_mutex_lock(&lab->lock);
	for (srv_lab_queue *lq = lab->queues, *next; lq != NULL; lq = next) {
		next = lq->next;
		if (lq->refs == 0 && now - lq->last_used >= idle_s) {
			unlink_locked(lab, lq);
			lq->next = gone;
			gone = lq;
			removed++;
		}
	}
	pthread_mutex_unlock(&lab->lock);
	for (srv_lab_queue *lq = gone, *next; lq != NULL; lq = next) {
		next = lq->next;
		free_queue(lq);
	}
	return removed;
}

void
srv_lab_stop(srv_lab *lab)
{
	pthread_mutex_lock(&lab->lock);
	lab->stopping = true;
	for (srv_lab_queue *lq = lab->queues; lq != NULL; lq = lq->next)
		release_waiters(lq);
	pthread_cond_broadcast(&lab->stopped);
	pthread_mutex_unlock(&lab->lock);
}

/* Waits up to `seconds` for srv_lab_stop; true once it was called. */
static bool
wait_for_stop(srv_lab *lab, double seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&lab->lock);
	while (!lab->stopping && pthread_cond_timedwait(&lab->stopped, &lab->lock, &until) == 0)
		;
	bool stopping = lab->stopping;
	pthread_mutex_unlock(&lab->lock);
	return stopping;
}

void *
srv_lab_reaper_main(void *arg)
{
	srv_lab *lab = arg;
	srv_block_stop_signals();
	while (!wait_for_stop(lab, SRV_LAB_REAP_EVERY)) {
		size_t removed = srv_lab_reap(lab, SRV_LAB_TTL);
		if (removed > 0)
			srv_log(SRV_LOG_DEBUG, "removed %zu idle lab queue(s)", removed);
	}
	return NULL;
}

void
srv_lab_counts(srv_lab *lab, size_t *queues, long *blocked)
{
	pthread_mutex_lock(&lab->lock);
	*queues = lab->count;
	*blocked = lab->blocked;
	pthread_mutex_unlock(&lab->lock);
}

long
srv_lab_max_waiting(const srv_lab *lab)
{
	return lab->max_waiting;             /* set once, before any thread */
}

void
srv_lab_list_json(srv_lab *lab, http_buf *b)
{
	/* Lock order: lab->lock, then each queue's own mutex (state_json);
	 * no call ever holds a queue's mutex while it takes lab->lock. */
	pthread_mutex_lock(&lab->lock);
	double now = srv_monotonic();
	http_buf_puts(b, "{\"queues\":[");
	for (srv_lab_queue *lq = lab->queues; lq != NULL; lq = lq->next) {
		http_buf_printf(b, "%s{\"idle\":%.1f,\"state\":", lq == lab->queues ? "" : ",",
		                now - lq->last_used);
		srv_lab_state_json(lq, b);
		http_buf_puts(b, "}");
	}
	http_buf_printf(b, "],\"waiting\":%ld,\"max_waiting\":%ld}", lab->blocked, lab->max_waiting);
	pthread_mutex_unlock(&lab->lock);
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

struct items_json {
	http_buf *b;
	bool first;
};

/* Called under the queue's lock (queue_visit): appends one item. */
static void
append_item(void *item, void *ctx)
{
	struct items_json *out = ctx;
	const srv_lab_item *it = item;
	http_buf_puts(out->b, out->first ? "{\"item\":" : ",{\"item\":");
	out->first = false;
	http_buf_json_string(out->b, it->text, strlen(it->text));
	http_buf_printf(out->b, ",\"put\":%lu}", it->put_no);
}

void
srv_lab_state_json(srv_lab_queue *lq, http_buf *b)
{
	/* Items and counters come from two looks at the queue; a call between
	 * them shows in the next state.  The items are the truth a page draws. */
	http_buf_printf(b, "{\"id\":\"%s\",\"items\":[", lq->id);
	struct items_json out = { b, true };
	queue_visit(lq->q, append_item, &out);
	queue_stats st;
	queue_get_stats(lq->q, &st);
	http_buf_printf(b, "],\"qsize\":%zu,\"maxsize\":%ld,\"unfinished\":%ld,"
	                "\"getters\":%u,\"putters\":%u,\"joiners\":%u,\"shutdown\":%s}",
	                st.qsize, st.maxsize, st.unfinished_tasks, st.waiting_getters,
	                st.waiting_putters, st.waiting_joiners, st.is_shutdown ? "true" : "false");
}
