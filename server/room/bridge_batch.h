/*
 * bridge_batch.h - group commit: sends that arrive while a batch is on its
 * way go together in the next one (bridge.c uses it to pipeline appends to
 * Redis, one round trip for many sends).
 *
 *   a thread with an item queues it; if no batch is in flight it becomes
 *   the *leader*: it takes everything queued (up to `max`, in arrival
 *   order), lets the lock go, and calls send() on the batch; then it wakes
 *   every item's thread and, if more items came meanwhile, the one at the
 *   head of the queue, which leads the next batch.  A thread whose item is
 *   in a batch sleeps on its item's own condition variable until it is
 *   done; no thread is woken for somebody else's answer.
 *
 * So a lone send goes at once (a batch of one), and under load each round
 * trip carries everything that queued up during the one before.  At most
 * one batch is in flight: send() runs in one thread at a time, so what it
 * touches needs no lock of its own.
 *
 * Thread-safety: srv_batch_submit from any thread; init and destroy with
 * no submit running.
 */
#ifndef PUSHQ_BRIDGE_BATCH_H
#define PUSHQ_BRIDGE_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* One send in a batch.  The caller's struct holds one (and its own
 * fields: what to send, where its answer goes); the rest is the batch's. */
typedef struct srv_batch_item {
	struct srv_batch_item *next;  /* the queue, then the batch (send() walks it) */
	pthread_cond_t done_cond;
	bool done;
} srv_batch_item;

/* Sends the items from `first` (following next, in arrival order), and
 * gives each its answer (in the caller's struct around it).  Called
 * without the batch's lock, by one thread at a time. */
typedef void srv_batch_send_fn(void *ctx, srv_batch_item *first);

typedef struct {
	pthread_mutex_t lock;
	srv_batch_item *head, *tail;  /* queued, not yet sent (under lock) */
	bool in_flight;               /* a leader is in send() (under lock) */
	size_t max;                   /* items per batch at most */
	srv_batch_send_fn *send;
	void *ctx;
} srv_batch;

void srv_batch_init(srv_batch *q, size_t max, srv_batch_send_fn *send, void *ctx);
void srv_batch_destroy(srv_batch *q);

/* Queues item and returns once a batch holding it was sent (by this thread
 * or another): its answer is then in the caller's struct. */
void srv_batch_submit(srv_batch *q, srv_batch_item *item);

#endif
