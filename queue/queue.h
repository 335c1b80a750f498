/*
 * queue.h - a blocking queue for threads: Python 3.13's `queue` module in C.
 *
 * Read this header next to CPython's Lib/queue.py.  Every function below
 * names the Python call it mirrors.  The rules that decide each result are
 * Python's, checked in Python's order; docs/queue-semantics.md lists them
 * with the tags (P1..P7, G1..G6) that queue.c and its tests cite:
 *
 *   - A queue with maxsize <= 0 is unbounded.
 *   - put() waits while the queue is full, get() waits while it is empty.
 *     `block == false` never waits; `timeout_s == NULL` waits forever
 *     (Python's timeout=None); a non-NULL timeout waits at most that many
 *     seconds, measured on CLOCK_MONOTONIC, and never returns early.
 *   - Exceptions become result codes: queue.Empty -> QUEUE_EMPTY,
 *     queue.Full -> QUEUE_FULL, queue.ShutDown -> QUEUE_SHUTDOWN,
 *     ValueError (and OverflowError) -> QUEUE_EINVAL.
 *
 * Ownership: items are opaque `void *` owned by the caller.  A put that
 * returns QUEUE_OK hands the item to the queue; any other result leaves it
 * with the caller.  A get that returns QUEUE_OK hands the item back; any other
 * result leaves *item_out untouched.  Items still queued when the queue is
 * freed, or drained by queue_shutdown(q, true), are passed to the queue's
 * free_item function (if it has one), once each.
 *
 * Thread-safety: every function may be called from any thread at any time,
 * except queue_free(), which the caller must only call once no other thread
 * can be inside or enter the queue.
 *
 * Which of several waiting threads gets an item is unspecified (as in
 * Python); only the order of the items themselves is guaranteed.
 */
#ifndef PUSHQ_QUEUE_H
#define PUSHQ_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Result codes.  Python raises an exception where we return one of these. */
typedef enum {
	QUEUE_OK = 0,       /* done */
	QUEUE_EMPTY = 1,    /* queue.Empty: nothing to get in time */
	QUEUE_FULL = 2,     /* queue.Full: no room to put in time */
	QUEUE_SHUTDOWN = 3, /* queue.ShutDown: the queue was shut down */
	QUEUE_EINVAL = 4,   /* ValueError: NULL argument, negative / NaN /
	                       too-large timeout, task_done() too often */
	QUEUE_ENOMEM = 5,   /* no memory to store the item (no Python twin) */
	QUEUE_CANCELLED = 6, /* queue_get_cancellable: called off (no Python twin) */
	QUEUE_TIMEOUT = 7   /* queue_join_timeout: tasks still unfinished (no Python twin) */
} queue_rc;

/*
 * The largest timeout accepted, in seconds (about 31 years).  Python raises
 * OverflowError above threading.TIMEOUT_MAX; we return QUEUE_EINVAL.
 */
#define QUEUE_TIMEOUT_MAX 1e9

/* The three kinds of queue in Python's module. */
typedef enum {
	QUEUE_FIFO,     /* queue.Queue: first in, first out */
	QUEUE_LIFO,     /* queue.LifoQueue: last in, first out */
	QUEUE_PRIORITY  /* queue.PriorityQueue: smallest first */
} queue_kind;

typedef struct queue queue;

/* Called once for each item the queue still holds when it drops them. */
typedef void (*queue_free_fn)(void *item);

/*
 * Orders two items of a priority queue like strcmp: < 0 when a comes out
 * first.  Unlike Python's heapq, items that compare equal come out in the
 * order they were put (the queue is stable), so the usual
 * (priority, sequence, data) idiom is not needed.
 */
typedef int (*queue_cmp_fn)(const void *a, const void *b);

/* A snapshot of a queue, for the teaching pages and /stats. */
typedef struct {
	size_t qsize;            /* items queued now */
	long maxsize;            /* the bound, <= 0 when unbounded */
	long unfinished_tasks;   /* puts not yet matched by task_done() */
	unsigned waiting_getters; /* threads blocked in get() now */
	unsigned waiting_putters; /* threads blocked in put() now */
	unsigned waiting_joiners; /* threads blocked in join() now */
	bool is_shutdown;
	size_t high_water;       /* most items held at once since the last
	                            queue_take_high_water() (or since made) */
} queue_stats;

/*
 * Python: queue.Queue(maxsize)          -> queue_new(maxsize, free_item)
 *         queue.LifoQueue(maxsize)      -> queue_new_kind(QUEUE_LIFO, ...)
 *         queue.PriorityQueue(maxsize)  -> queue_new_kind(QUEUE_PRIORITY, ...)
 * `free_item` may be NULL (items are then simply forgotten).  `cmp` is
 * required for QUEUE_PRIORITY and ignored otherwise.
 * Returns NULL when out of memory or when a priority queue has no cmp.
 */
queue *queue_new(long maxsize, queue_free_fn free_item);
queue *queue_new_kind(queue_kind kind, long maxsize, queue_cmp_fn cmp,
                      queue_free_fn free_item);

/*
 * Frees the queue, passing each remaining item to free_item.  NULL is a
 * no-op.  The caller guarantees no thread is using the queue or will.
 */
void queue_free(queue *q);

/*
 * Python: q.put(item, block, timeout).  timeout_s == NULL means None.
 * Checks, in this order:
 *   shut down                 -> QUEUE_SHUTDOWN (also while waiting)
 *   unbounded                 -> stored; block and timeout not looked at
 *   block == false            -> QUEUE_FULL if full, else stored
 *   timeout NULL              -> waits until there is room
 *   timeout < 0, NaN, > MAX   -> QUEUE_EINVAL (even if there is room)
 *   timeout >= 0              -> waits at most that long, then QUEUE_FULL
 * Also QUEUE_EINVAL for q == NULL, QUEUE_ENOMEM if storage cannot grow.
 * Wakes one waiting getter.
 */
queue_rc queue_put(queue *q, void *item, bool block, const double *timeout_s);

/*
 * Python: q.get(block, timeout).  timeout_s == NULL means None.
 * Checks, in this order:
 *   shut down and empty       -> QUEUE_SHUTDOWN (also while waiting)
 *   block == false            -> QUEUE_EMPTY if empty, else an item
 *   timeout NULL              -> waits until there is an item
 *   timeout < 0, NaN, > MAX   -> QUEUE_EINVAL (even if there are items)
 *   timeout >= 0              -> waits at most that long, then QUEUE_EMPTY
 * Also QUEUE_EINVAL for q == NULL or item_out == NULL.
 * After a shutdown the remaining items are still handed out, then SHUTDOWN.
 * Wakes one waiting putter.  Does not change the unfinished-task count.
 */
queue_rc queue_get(queue *q, void **item_out, bool block,
                   const double *timeout_s);

/* Python: q.put_nowait(item) == q.put(item, False). */
queue_rc queue_put_nowait(queue *q, void *item);

/* Python: q.get_nowait() == q.get(False). */
queue_rc queue_get_nowait(queue *q, void **item_out);

/* ------------------------------------------------------------------ */
/* Beyond Python: what a server needs that Lib/queue.py has no twin of. */
/* (docs/queue-semantics.md, "Beyond Python")                           */
/* ------------------------------------------------------------------ */

/*
 * Gives back an item that a get took and could not use (a message whose
 * answer could not be written).  It re-enters where its order puts it: the
 * front of a FIFO (like deque.appendleft), the top of a LIFO, its place by
 * priority in a PRIORITY queue -- so a priority queue keeps several items
 * given back at once in order, whatever order they come back in.  No bound
 * check (the room it takes was its own a moment ago), no change to the
 * unfinished count (its put was counted), and one waiting getter is woken.
 * QUEUE_SHUTDOWN on a shut-down queue (the item stays with the caller, as
 * for a put), QUEUE_ENOMEM, QUEUE_EINVAL for q == NULL.
 */
queue_rc queue_give_back(queue *q, void *item);

/*
 * queue_get(q, item_out, true, timeout_s) that another thread can call off:
 * before each wait, and after every wake-up, while the queue is still
 * empty, a true *cancel gives QUEUE_CANCELLED.  The other thread sets
 * *cancel, then calls queue_wake_getters(q).  An item that is there is
 * still returned (cancelling stops a wait, it does not refuse an item).
 * cancel may be NULL: then exactly queue_get.
 */
queue_rc queue_get_cancellable(queue *q, void **item_out, const double *timeout_s,
                               const atomic_bool *cancel);

/*
 * Wakes every thread waiting in a get on q without giving it anything: each
 * re-checks its condition (and its cancel flag) and, if nothing changed for
 * it, goes back to waiting until the same deadline -- a spurious wake-up,
 * invisible to it.  NULL is a no-op.
 */
void queue_wake_getters(queue *q);

/*
 * Python: q.task_done().  Marks one earlier put as processed; when none is
 * left unfinished, every thread in queue_join() returns.  QUEUE_EINVAL (and
 * no change) when called more times than items were put, or q == NULL.
 * Not affected by shutdown.
 */
queue_rc queue_task_done(queue *q);

/*
 * Python: q.join().  Blocks until every item put has had its task_done()
 * (or was drained by an immediate shutdown).  Never times out, never fails;
 * NULL returns at once.
 */
void queue_join(queue *q);

/*
 * Not in Python (its join() cannot time out): queue_join() that waits at
 * most timeout_s seconds.  QUEUE_OK when every task is done, QUEUE_TIMEOUT
 * when some are still unfinished at the deadline, QUEUE_EINVAL for q == NULL
 * or a timeout that queue_get would refuse.  For callers that must never
 * wait forever, like the queue lab of the teaching pages.
 */
queue_rc queue_join_timeout(queue *q, double timeout_s);

/*
 * Python: q.shutdown(immediate).  From now on put gives QUEUE_SHUTDOWN and
 * get gives the remaining items, then QUEUE_SHUTDOWN.  With immediate, the
 * remaining items are dropped at once (each passed to free_item) and the
 * unfinished count lowered by one per item, never below zero.  Wakes every
 * thread blocked in put, get, and (immediate) join.  Idempotent; cannot be
 * undone.  NULL is a no-op.
 */
void queue_shutdown(queue *q, bool immediate);

/*
 * Python: q.qsize(), q.empty(), q.full(), q.is_shutdown, q.unfinished_tasks.
 * Snapshots: the answer may be stale as soon as it is returned, so never use
 * one to decide whether a put or get will succeed (use the nowait calls).
 * full() is 0 < maxsize <= qsize().  NULL gives 0 / true / false / false / 0.
 */
size_t queue_qsize(queue *q);
bool queue_empty(queue *q);
bool queue_full(queue *q);
bool queue_is_shutdown(queue *q);
long queue_unfinished_tasks(queue *q);

/*
 * Python: q.maxsize = n.  Changes the bound at run time (items already queued
 * stay, even above a smaller bound).  Unlike Python, threads waiting in put
 * re-check at once, so a larger bound lets them in without waiting for a get.
 */
void queue_set_maxsize(queue *q, long maxsize);

/*
 * Not in Python: the most items held at once since the last call (or since
 * the queue was made), then starts counting again from the items held now.
 * A burst that fills and drains between two looks at qsize() shows here.
 */
size_t queue_take_high_water(queue *q);

/*
 * Not in Python (where one reads list(q.queue)): calls visit(item, ctx) for
 * each item held, in the order they are stored, under the queue's lock -- so
 * an item cannot be taken and freed while visit looks at it.  visit must be
 * quick and must not call the queue.  FIFO and LIFO: oldest put first (a
 * FIFO's get() order); PRIORITY: heap order.  NULL q or visit is a no-op.
 */
void queue_visit(queue *q, void (*visit)(void *item, void *ctx), void *ctx);

/* Not in Python: a consistent snapshot of the queue, for teaching and stats. */
void queue_get_stats(queue *q, queue_stats *out);

/* "OK", "EMPTY", ... for logs and test messages. */
const char *queue_rc_name(queue_rc rc);

#endif
