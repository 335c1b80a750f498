/*
 * bridge_batch.h - group commit: sends that arrive while a batch is on its
 * way go together in the next one (bridge.c uses it to put many sends to
 * Redis in one round trip).
 *
 *   a thread with an item queues it; if no batch is in flight it becomes
 *   the *leader*: it takes everything queued (up to `max`, in arrival
 *   order), lets the lock go, and calls send() on the batch.  Then it hands
 *   the lead to the item now at the head of the queue, if any (that thread
 *   sends the next batch at once), and wakes each item of its own batch.
 *   A thread whose item is queued sleeps on its item's own semaphore until
 *   its item is done or it is handed the lead; no thread is woken for
 *   somebody else's answer, and none is woken only to wait for a lock (the
 *   wake-ups happen after the lock is let go).
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
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>

/* One send in a batch.  The caller's struct holds one (and its own
 * fields: what to send, where its answer goes); the rest is the batch's. */
typedef struct srv_batch_item {
	struct srv_batch_item *next;  /* the queue, then the batch (send() walks it) */
	sem_t wake;                   /* posted once: done, or the lead handed over */
	enum { SRV_BATCH_QUEUED, SRV_BATCH_LEAD, SRV_BATCH_DONE } state;
} srv_batch_item;

/* Sends the items from `first` (following next, in arrival order), and
 * gives each its answer (in the caller's struct around it).  Called
 * without the batch's lock, by one thread at a time. */
typedef void srv_batch_send_fn(void *ctx, srv_batch_item *first);

typedef struct {
	pthread_mutex_t lock;
	srv_batch_item *head, *tail;  /* queued, not yet sent (under lock) */
	bool in_flight;               /* a thread leads: sends, or is about to (under lock) */
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
