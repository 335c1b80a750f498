/*
 * lab.h - the queue lab: small queues that the playground page (lab.html)
 * drives over HTTP, so that a learner watches real threads block in the
 * real queue_put / queue_get / queue_join of queue/queue.h.
 *
 * Each lab queue is a queue.h FIFO of lab items (text the learner typed,
 * numbered by the put that brought it).  A lab call that may block runs in
 * its connection's thread, exactly like a long poll: the thread sleeps in
 * the queue until an item, room, the deadline or a shutdown comes.
 *
 * Safe on a shared classroom server, because every resource is bounded:
 *   SRV_LAB_MAX_QUEUES   lab queues at once (then SRV_LAB_TOO_MANY)
 *   SRV_LAB_MAX_SIZE     the largest maxsize (lab queues are never unbounded)
 *   max_waiting          lab calls that may block at once, server-wide: each
 *                        holds a thread (then the call is refused, not queued);
 *                        --lab-max-waiting, SRV_LAB_MAX_WAITING by default
 *   SRV_LAB_MAX_TIMEOUT  the longest a call may wait; a blocking call must
 *                        name its timeout (Python's "forever" is not offered)
 *   SRV_LAB_ITEM_MAX     bytes of an item's text
 *   SRV_LAB_TTL          a queue nobody used for this long is removed
 * The lab has its own table: no lab call can reach a chat client's queue.
 *
 * Lifetimes: srv_lab_acquire returns a reference that stays valid, even
 * if the queue is deleted or reaped meanwhile, until srv_lab_release.
 * Thread-safety: every function may be called from any thread.
 */
#ifndef PUSHQ_LAB_H
#define PUSHQ_LAB_H

#include "http/http.h"
#include "queue/queue.h"

#include <stdbool.h>

#define SRV_LAB_MAX_QUEUES 64
#define SRV_LAB_MAX_SIZE 10
#define SRV_LAB_MAX_WAITING 64    /* default of --lab-max-waiting: a class of 60 */
#define SRV_LAB_MAX_WAITING_MAX 10000
#define SRV_LAB_MAX_TIMEOUT 30.0
#define SRV_LAB_ITEM_MAX 32
#define SRV_LAB_TTL 600.0
#define SRV_LAB_REAP_EVERY 1.0  /* seconds between two looks for idle queues */
#define SRV_LAB_ID_SIZE 9          /* 8 hex digits and the NUL */

typedef struct srv_lab srv_lab;
typedef struct srv_lab_queue srv_lab_queue;

/* An item of a lab queue: the text, and which put (1, 2, ...) brought it. */
typedef struct {
	unsigned long put_no;
	char text[];
} srv_lab_item;

typedef enum {
	SRV_LAB_OK,
	SRV_LAB_TOO_MANY,    /* SRV_LAB_MAX_QUEUES exist, or max_waiting calls wait */
	SRV_LAB_BAD_SIZE,    /* maxsize outside 1..SRV_LAB_MAX_SIZE */
	SRV_LAB_NOMEM,
	SRV_LAB_STOPPING     /* srv_lab_stop was called */
} srv_lab_rc;

/* A lab whose calls may wait max_waiting at once (1..SRV_LAB_MAX_WAITING_MAX). */
srv_lab *srv_lab_new(long max_waiting);

/* Frees every lab queue.  No other thread may use lab any more. */
void srv_lab_free(srv_lab *lab);

/* Makes a lab queue of maxsize items; its id goes into id. */
srv_lab_rc srv_lab_create(srv_lab *lab, long maxsize, char id[SRV_LAB_ID_SIZE]);

/* A reference to lab queue `id` (marked as used), or NULL. */
srv_lab_queue *srv_lab_acquire(srv_lab *lab, const char *id);
void srv_lab_release(srv_lab *lab, srv_lab_queue *lq);

/*
 * A slot for a call that may block (max_waiting in all): true when
 * taken -- give it back with srv_lab_unblock -- false when none is free.
 */
bool srv_lab_block(srv_lab *lab);
void srv_lab_unblock(srv_lab *lab);

/*
 * Puts a copy of `text` (at most SRV_LAB_ITEM_MAX bytes, else QUEUE_EINVAL)
 * into lq as a new item -- q.put(text, block, timeout) -- numbered by the
 * put that brought it, whose number goes into *put_no (taken when the call
 * starts, as a ticket, so a refused put keeps its number too).
 */
queue_rc srv_lab_put(srv_lab_queue *lq, const char *text, bool block,
                     double timeout_s, unsigned long *put_no);

/*
 * The queue.h queue itself, of srv_lab_item * (the caller of a get owns
 * the item taken: free() it).  The views call queue_get, queue_task_done,
 * queue_join_timeout and queue_shutdown on it directly, exactly as the
 * learner's Python calls q.get(), q.task_done(), q.join(), q.shutdown().
 */
queue *srv_lab_q(srv_lab_queue *lq);

/*
 * Removes lab queue `id`: it is shut down at once and every call waiting on
 * it returns (a join too).  False when there is no such queue.
 */
bool srv_lab_delete(srv_lab *lab, const char *id);

/* Removes every lab queue, as srv_lab_delete does each (the teacher's
 * purge).  Returns how many. */
size_t srv_lab_purge(srv_lab *lab);

/* Removes the queues that nobody holds and nobody used for idle_s seconds.
 * Returns how many. */
size_t srv_lab_reap(srv_lab *lab, double idle_s);

/* Server stop: refuses new queues, every waiting lab call returns, and
 * the reaper thread ends. */
void srv_lab_stop(srv_lab *lab);

/* The lab's reaper thread: every SRV_LAB_REAP_EVERY seconds removes the
 * queues idle for SRV_LAB_TTL (srv_lab_reap), until srv_lab_stop. */
void *srv_lab_reaper_main(void *lab);

/* How many lab queues exist, and how many calls may be blocked now. */
void srv_lab_counts(srv_lab *lab, size_t *queues, long *blocked);

/* The most lab calls that may wait at once (srv_lab_new's max_waiting). */
long srv_lab_max_waiting(const srv_lab *lab);

/*
 * Appends every lab queue, for the teacher's view (GET /lab/list):
 * {"queues":[{"idle":S,"state":STATE}...],"waiting":N,"max_waiting":M},
 * STATE as srv_lab_state_json writes it, S the seconds since last used.
 */
void srv_lab_list_json(srv_lab *lab, http_buf *b);

/*
 * Appends the queue as JSON: {"id","maxsize","qsize","items":[{"item",
 * "put"}...] (in get order),"unfinished","getters","putters","joiners",
 * "shutdown"}.
 */
void srv_lab_state_json(srv_lab_queue *lq, http_buf *b);

#endif
