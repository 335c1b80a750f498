/*
 * queue.c - Python 3.13's queue.Queue in C (see queue.h for the contract).
 * The tags in comments (P1..P7, G1..G6) are the rules of
 * docs/queue-semantics.md, at the line that applies each.
 *
 * DESIGN
 * Like Lib/queue.py, a queue is one mutex and three condition variables that
 * share it:
 *   not_empty      - put() signals it; get() waits on it while empty.
 *   not_full       - get() signals it; put() waits on it while full.
 *   all_tasks_done - task_done() broadcasts it when the unfinished count
 *                    reaches zero; join() waits on it.
 * shutdown() broadcasts all three, because every waiter must see it.
 *
 * Every wait sits in a `while` loop on its predicate: pthread waits may wake
 * spuriously, and another thread may take the item between the signal and
 * our waking (a "stolen" wake-up).  Timed waits compute one absolute deadline
 * on CLOCK_MONOTONIC before waiting and compare against it after every wake,
 * so a wake-up never restarts the clock and a wall-clock change never moves
 * it.  The condition variables use CLOCK_MONOTONIC too
 * (pthread_condattr_setclock), so the kernel agrees with us on the deadline.
 *
 * Waking: put and get decide under the lock whether someone waits, and
 * signal just *after* unlocking.  No wake-up can be missed: the state a
 * waiter checks was changed under the lock, and a waiter re-checks it under
 * the lock before it sleeps.  Signalling while still holding the lock (as
 * Python's `with self.not_empty: ... notify()` does) would wake the other
 * thread only for it to block at once on the lock we still hold: with
 * thousands of waiting clients that doubles the sleeps and wake-ups.  The
 * rare broadcasts (shutdown, task_done) stay under the lock, like Python's.
 *
 * Storage, like Python's _init/_qsize/_put/_get hooks, is a few small
 * functions (store_*) that are only called with q->mutex held:
 *   FIFO and LIFO use a growable ring of slots (a deque);
 *   PRIORITY uses the same array as a binary min-heap.
 * Each slot carries a sequence number so equal priorities stay in put order.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP, where glibc has it */

#include "queue.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct slot {
	void *item;
	unsigned long long seq; /* put order, used to keep PRIORITY stable */
};

struct queue {
	pthread_mutex_t mutex;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	pthread_cond_t all_tasks_done;

	queue_kind kind;
	long maxsize;             /* <= 0: unbounded */
	queue_cmp_fn cmp;         /* PRIORITY only */
	queue_free_fn free_item;  /* may be NULL */

	struct slot *slots;       /* ring (FIFO/LIFO) or heap (PRIORITY) */
	size_t cap;               /* slots allocated, a power of two */
	size_t head;              /* ring: index of the oldest item */
	size_t count;             /* items stored */
	unsigned long long next_seq;

	long unfinished_tasks;
	bool is_shutdown;
	unsigned waiting_getters;
	unsigned waiting_putters;
	unsigned waiting_joiners;
	size_t high_water;        /* most items held since queue_take_high_water */
};

#define STORE_INITIAL_CAP 8

/* ------------------------------------------------------------------ */
/* Storage: caller holds q->mutex for every store_* function.          */
/* ------------------------------------------------------------------ */

static size_t
ring_index(const queue *q, size_t i)
{
	return (q->head + i) & (q->cap - 1);
}

/* Doubles the array, keeping the items in order from index 0. */
static bool
store_grow(queue *q)
{
	size_t new_cap = q->cap ? q->cap * 2 : STORE_INITIAL_CAP;
	if (new_cap > SIZE_MAX / sizeof(struct slot))
		return false;
	struct slot *bigger = malloc(new_cap * sizeof(struct slot));
	if (bigger == NULL)
		return false;
	for (size_t i = 0; i < q->count; i++)
		bigger[i] = q->slots[ring_index(q, i)];
	free(q->slots);
	q->slots = bigger;
	q->cap = new_cap;
	q->head = 0;
	return true;
}

/* True when heap slot a must come out before heap slot b. */
static bool
heap_before(const queue *q, const struct slot *a, const struct slot *b)
{
	int c = q->cmp(a->item, b->item);
	return c < 0 || (c == 0 && a->seq < b->seq);
}

static void
heap_swap(struct slot *s, size_t i, size_t j)
{
	struct slot t = s[i];
	s[i] = s[j];
	s[j] = t;
}

static void
heap_sift_up(queue *q, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_before(q, &q->slots[i], &q->slots[parent]))
			break;
		heap_swap(q->slots, i, parent);
		i = parent;
	}
}

static void
heap_sift_down(queue *q, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, first = i;
		if (left < q->count && heap_before(q, &q->slots[left], &q->slots[first]))
			first = left;
		if (right < q->count && heap_before(q, &q->slots[right], &q->slots[first]))
			first = right;
		if (first == i)
			return;
		heap_swap(q->slots, i, first);
		i = first;
	}
}

/* Python's _put.  Returns false only when out of memory. */
static bool
store_push(queue *q, void *item)
{
	if (q->count == q->cap && !store_grow(q))
		return false;
	struct slot s = { item, q->next_seq++ };
	if (q->kind == QUEUE_PRIORITY) {
		/* The heap always starts at index 0 (head stays 0). */
		q->slots[q->count] = s;
		q->count++;
		heap_sift_up(q, q->count - 1);
	} else {
		q->slots[ring_index(q, q->count)] = s;
		q->count++;
	}
	if (q->count > q->high_water)
		q->high_water = q->count;
	return true;
}

/* Puts a taken item back where it came from: the front of a FIFO, the top
 * of a LIFO, its place in the heap.  Returns false only when out of memory. */
static bool
store_push_front(queue *q, void *item)
{
	if (q->kind != QUEUE_FIFO)
		return store_push(q, item);   /* LIFO top and heap place: a push */
	if (q->count == q->cap && !store_grow(q))
		return false;
	q->head = (q->head + q->cap - 1) & (q->cap - 1);
	q->slots[q->head] = (struct slot){ item, q->next_seq++ };
	q->count++;
	return true;
}

/* Python's _get.  Caller checked that the queue is not empty. */
static void *
store_pop(queue *q)
{
	void *item;
	switch (q->kind) {
	case QUEUE_FIFO: /* take the oldest, at the head of the ring */
		item = q->slots[q->head].item;
		q->head = ring_index(q, 1);
		q->count--;
		break;
	case QUEUE_LIFO: /* take the newest, at the tail of the ring */
		item = q->slots[ring_index(q, q->count - 1)].item;
		q->count--;
		break;
	default: /* QUEUE_PRIORITY: take the root, move the last slot up */
		item = q->slots[0].item;
		q->count--;
		q->slots[0] = q->slots[q->count];
		heap_sift_down(q, 0);
		break;
	}
	return item;
}

/* Drops every item, handing each to free_item. */
static size_t
store_drain(queue *q)
{
	size_t drained = 0;
	while (q->count > 0) {
		void *item = store_pop(q);
		if (q->free_item != NULL)
			q->free_item(item);
		drained++;
	}
	return drained;
}

/* ------------------------------------------------------------------ */
/* Time: absolute deadlines on CLOCK_MONOTONIC.                        */
/* ------------------------------------------------------------------ */

/* Python raises ValueError for a negative timeout; we also refuse NaN and
 * values too large to turn into a deadline (Python's OverflowError). */
static bool
timeout_valid(double t)
{
	return !isnan(t) && t >= 0 && t <= QUEUE_TIMEOUT_MAX;
}

static struct timespec
deadline_after(double seconds)
{
	struct timespec now, when;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double whole = floor(seconds);
	when.tv_sec = now.tv_sec + (time_t)whole;
	when.tv_nsec = now.tv_nsec + (long)((seconds - whole) * 1e9);
	if (when.tv_nsec >= 1000000000L) {
		when.tv_sec++;
		when.tv_nsec -= 1000000000L;
	}
	return when;
}

static bool
deadline_passed(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Waits on cond, forever (deadline NULL) or until the deadline.  The caller
 * loops on its predicate, so the result does not matter. */
static void
wait_on(queue *q, pthread_cond_t *cond, const struct timespec *deadline)
{
	if (deadline == NULL)
		pthread_cond_wait(cond, &q->mutex);
	else
		pthread_cond_timedwait(cond, &q->mutex, deadline);
}

/* ------------------------------------------------------------------ */
/* Life cycle.                                                         */
/* ------------------------------------------------------------------ */

/*
 * The lock is held for a few dozen nanoseconds at a time, so a thread that
 * finds it taken does better to spin a little than to sleep in the kernel
 * at once.  glibc's "adaptive" mutex does exactly that; elsewhere we fall back
 * to the default mutex, which behaves the same, only slower under contention.
 */
static bool
adaptive_mutex_init(pthread_mutex_t *mutex)
{
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init(&attr) != 0)
		return false;
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
	bool ok = pthread_mutex_init(mutex, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	return ok;
}

static bool
monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0)
		return false;
	bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	          pthread_cond_init(cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	return ok;
}

queue *
queue_new_kind(queue_kind kind, long maxsize, queue_cmp_fn cmp,
               queue_free_fn free_item)
{
	if (kind == QUEUE_PRIORITY && cmp == NULL)
		return NULL;
	queue *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->kind = kind;
	q->maxsize = maxsize;
	q->cmp = cmp;
	q->free_item = free_item;

	int made = 0; /* how many of the four sync objects exist */
	if (!adaptive_mutex_init(&q->mutex))
		goto fail;
	made++;
	if (!monotonic_cond_init(&q->not_empty))
		goto fail;
	made++;
	if (!monotonic_cond_init(&q->not_full))
		goto fail;
	made++;
	if (!monotonic_cond_init(&q->all_tasks_done))
		goto fail;
	return q;

fail:
	if (made >= 3)
		pthread_cond_destroy(&q->not_full);
	if (made >= 2)
		pthread_cond_destroy(&q->not_empty);
	if (made >= 1)
		pthread_mutex_destroy(&q->mutex);
	free(q);
	return NULL;
}

queue *
queue_new(long maxsize, queue_free_fn free_item)
{
	return queue_new_kind(QUEUE_FIFO, maxsize, NULL, free_item);
}

void
queue_free(queue *q)
{
	if (q == NULL)
		return;
	store_drain(q);
	free(q->slots);
	pthread_cond_destroy(&q->all_tasks_done);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->mutex);
	free(q);
}

/* ------------------------------------------------------------------ */
/* put / get: Lib/queue.py's Queue.put and Queue.get, rule by rule.     */
/* ------------------------------------------------------------------ */

/* Caller holds q->mutex. */
static bool
is_full(const queue *q)
{
	return q->maxsize > 0 && q->count >= (size_t)q->maxsize;
}

/* Caller holds q->mutex.  Waits while full; OK once there is room. */
static queue_rc
put_wait_for_room(queue *q, bool block, const double *timeout_s)
{
	if (q->maxsize <= 0)
		return QUEUE_OK;                 /* P2: unbounded, never waits */
	if (!block)
		return is_full(q) ? QUEUE_FULL : QUEUE_OK;   /* P3 */
	if (timeout_s != NULL && !timeout_valid(*timeout_s))
		return QUEUE_EINVAL;             /* P5, even when not full */

	struct timespec deadline;
	if (timeout_s != NULL)
		deadline = deadline_after(*timeout_s);
	while (is_full(q)) {
		if (timeout_s != NULL && deadline_passed(&deadline))
			return QUEUE_FULL;           /* P6 */
		q->waiting_putters++;
		wait_on(q, &q->not_full, timeout_s ? &deadline : NULL);
		q->waiting_putters--;
		if (q->is_shutdown)
			return QUEUE_SHUTDOWN;       /* P4/P6: even if room opened */
	}
	return QUEUE_OK;
}

queue_rc
queue_put(queue *q, void *item, bool block, const double *timeout_s)
{
	if (q == NULL)
		return QUEUE_EINVAL;
	pthread_mutex_lock(&q->mutex);
	queue_rc rc = q->is_shutdown ? QUEUE_SHUTDOWN   /* P1 */
	                             : put_wait_for_room(q, block, timeout_s);
	bool wake_getter = false;
	if (rc == QUEUE_OK) {                            /* P7 */
		if (store_push(q, item)) {
			q->unfinished_tasks++;
			wake_getter = q->waiting_getters > 0;  /* nobody waiting: nobody to wake */
		} else {
			rc = QUEUE_ENOMEM;
		}
	}
	pthread_mutex_unlock(&q->mutex);
	if (wake_getter)          /* after unlocking: see "Waking" at the top */
		pthread_cond_signal(&q->not_empty);
	return rc;
}

/* Caller holds q->mutex.  Waits while empty; OK once there is an item.
 * A true *cancel (cancel may be NULL) ends the wait (queue_get_cancellable). */
static queue_rc
get_wait_for_item(queue *q, bool block, const double *timeout_s,
                  const atomic_bool *cancel)
{
	if (!block)
		return q->count == 0 ? QUEUE_EMPTY : QUEUE_OK;  /* G2 */
	if (timeout_s != NULL && !timeout_valid(*timeout_s))
		return QUEUE_EINVAL;             /* G4, even with items there */

	struct timespec deadline;
	if (timeout_s != NULL)
		deadline = deadline_after(*timeout_s);
	while (q->count == 0) {
		if (timeout_s != NULL && deadline_passed(&deadline))
			return QUEUE_EMPTY;          /* G5 */
		if (cancel != NULL && atomic_load(cancel))
			return QUEUE_CANCELLED;      /* called off (not in Python) */
		q->waiting_getters++;
		wait_on(q, &q->not_empty, timeout_s ? &deadline : NULL);
		q->waiting_getters--;
		if (q->is_shutdown && q->count == 0)
			return QUEUE_SHUTDOWN;       /* G3/G5 */
	}
	return QUEUE_OK;
}

/* queue_get, and queue_get_cancellable when cancel is not NULL. */
static queue_rc
get_item(queue *q, void **item_out, bool block, const double *timeout_s,
         const atomic_bool *cancel)
{
	if (q == NULL || item_out == NULL)
		return QUEUE_EINVAL;
	pthread_mutex_lock(&q->mutex);
	queue_rc rc = (q->is_shutdown && q->count == 0)
	                  ? QUEUE_SHUTDOWN                   /* G1 */
	                  : get_wait_for_item(q, block, timeout_s, cancel);
	bool wake_putter = false;
	if (rc == QUEUE_OK) {                                /* G6 */
		*item_out = store_pop(q);
		wake_putter = q->waiting_putters > 0;
	}
	pthread_mutex_unlock(&q->mutex);
	if (wake_putter)          /* after unlocking: see "Waking" at the top */
		pthread_cond_signal(&q->not_full);
	return rc;
}

queue_rc
queue_get(queue *q, void **item_out, bool block, const double *timeout_s)
{
	return get_item(q, item_out, block, timeout_s, NULL);
}

queue_rc
queue_put_nowait(queue *q, void *item)
{
	return queue_put(q, item, false, NULL);
}

queue_rc
queue_get_nowait(queue *q, void **item_out)
{
	return queue_get(q, item_out, false, NULL);
}

/* ------------------------------------------------------------------ */
/* Beyond Python: give back, and gets that can be called off            */
/* ------------------------------------------------------------------ */

queue_rc
queue_give_back(queue *q, void *item)
{
	if (q == NULL)
		return QUEUE_EINVAL;
	pthread_mutex_lock(&q->mutex);
	queue_rc rc = q->is_shutdown ? QUEUE_SHUTDOWN
	            : store_push_front(q, item) ? QUEUE_OK : QUEUE_ENOMEM;
	bool wake_getter = rc == QUEUE_OK && q->waiting_getters > 0;
	pthread_mutex_unlock(&q->mutex);
	if (wake_getter)
		pthread_cond_signal(&q->not_empty);
	return rc;
}

queue_rc
queue_get_cancellable(queue *q, void **item_out, const double *timeout_s,
                      const atomic_bool *cancel)
{
	return get_item(q, item_out, true, timeout_s, cancel);
}

void
queue_wake_getters(queue *q)
{
	if (q == NULL)
		return;
	/* Looked at under the lock: a getter that read its cancel flag as
	 * false is, by the time we get the lock, already waiting. */
	pthread_mutex_lock(&q->mutex);
	bool anyone = q->waiting_getters > 0;
	pthread_mutex_unlock(&q->mutex);
	if (anyone)
		pthread_cond_broadcast(&q->not_empty);
}

/* ------------------------------------------------------------------ */
/* task_done / join / shutdown                                          */
/* ------------------------------------------------------------------ */

queue_rc
queue_task_done(queue *q)
{
	if (q == NULL)
		return QUEUE_EINVAL;
	queue_rc rc = QUEUE_OK;
	pthread_mutex_lock(&q->mutex);
	if (q->unfinished_tasks <= 0) {
		rc = QUEUE_EINVAL;               /* called too many times */
	} else if (--q->unfinished_tasks == 0) {
		pthread_cond_broadcast(&q->all_tasks_done);
	}
	pthread_mutex_unlock(&q->mutex);
	return rc;
}

void
queue_join(queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mutex);
	while (q->unfinished_tasks > 0) {
		q->waiting_joiners++;
		pthread_cond_wait(&q->all_tasks_done, &q->mutex);
		q->waiting_joiners--;
	}
	pthread_mutex_unlock(&q->mutex);
}

queue_rc
queue_join_timeout(queue *q, double timeout_s)
{
	if (q == NULL || !timeout_valid(timeout_s))
		return QUEUE_EINVAL;
	struct timespec deadline = deadline_after(timeout_s);
	pthread_mutex_lock(&q->mutex);
	while (q->unfinished_tasks > 0 && !deadline_passed(&deadline)) {
		q->waiting_joiners++;
		wait_on(q, &q->all_tasks_done, &deadline);
		q->waiting_joiners--;
	}
	queue_rc rc = q->unfinished_tasks > 0 ? QUEUE_TIMEOUT : QUEUE_OK;
	pthread_mutex_unlock(&q->mutex);
	return rc;
}

void
queue_shutdown(queue *q, bool immediate)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mutex);
	q->is_shutdown = true;
	if (immediate) {
		size_t drained = store_drain(q);
		q->unfinished_tasks -= (long)drained;
		if (q->unfinished_tasks < 0)
			q->unfinished_tasks = 0;
		pthread_cond_broadcast(&q->all_tasks_done);
	}
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mutex);
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                            */
/* ------------------------------------------------------------------ */

void
queue_get_stats(queue *q, queue_stats *out)
{
	if (out == NULL)
		return;
	*out = (queue_stats){ 0 };
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mutex);
	out->qsize = q->count;
	out->maxsize = q->maxsize;
	out->unfinished_tasks = q->unfinished_tasks;
	out->waiting_getters = q->waiting_getters;
	out->waiting_putters = q->waiting_putters;
	out->waiting_joiners = q->waiting_joiners;
	out->is_shutdown = q->is_shutdown;
	out->high_water = q->high_water;
	pthread_mutex_unlock(&q->mutex);
}

size_t
queue_take_high_water(queue *q)
{
	if (q == NULL)
		return 0;
	pthread_mutex_lock(&q->mutex);
	size_t most = q->high_water;
	q->high_water = q->count;
	pthread_mutex_unlock(&q->mutex);
	return most;
}

void
queue_visit(queue *q, void (*visit)(void *item, void *ctx), void *ctx)
{
	if (q == NULL || visit == NULL)
		return;
	pthread_mutex_lock(&q->mutex);
	for (size_t i = 0; i < q->count; i++)
		visit(q->slots[q->kind == QUEUE_PRIORITY ? i : ring_index(q, i)].item, ctx);
	pthread_mutex_unlock(&q->mutex);
}

size_t
queue_qsize(queue *q)
{
	queue_stats s;
	queue_get_stats(q, &s);
	return s.qsize;
}

bool
queue_empty(queue *q)
{
	return queue_qsize(q) == 0;
}

bool
queue_full(queue *q)
{
	queue_stats s;
	queue_get_stats(q, &s);
	return s.maxsize > 0 && s.qsize >= (size_t)s.maxsize;
}

bool
queue_is_shutdown(queue *q)
{
	queue_stats s;
	queue_get_stats(q, &s);
	return s.is_shutdown;
}

long
queue_unfinished_tasks(queue *q)
{
	queue_stats s;
	queue_get_stats(q, &s);
	return s.unfinished_tasks;
}

void
queue_set_maxsize(queue *q, long maxsize)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mutex);
	q->maxsize = maxsize;
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mutex);
}

const char *
queue_rc_name(queue_rc rc)
{
	switch (rc) {
	case QUEUE_OK: return "OK";
	case QUEUE_EMPTY: return "EMPTY";
	case QUEUE_FULL: return "FULL";
	case QUEUE_SHUTDOWN: return "SHUTDOWN";
	case QUEUE_EINVAL: return "EINVAL";
	case QUEUE_ENOMEM: return "ENOMEM";
	case QUEUE_CANCELLED: return "CANCELLED";
	case QUEUE_TIMEOUT: return "TIMEOUT";
	}
	return "?";
}
