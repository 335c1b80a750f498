/* bridge_batch.c - group commit (see bridge_batch.h). */
#include "server/room/bridge_batch.h"

void
srv_batch_init(srv_batch *q, size_t max, srv_batch_send_fn *send, void *ctx)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = q->tail = NULL;
	q->in_flight = false;
	q->max = max > 0 ? max : 1;
	q->send = send;
	q->ctx = ctx;
}

void
srv_batch_destroy(srv_batch *q)
{
	pthread_mutex_destroy(&q->lock);
}

/* Takes up to q->max items off the head of the queue: the batch's first.
 * Caller holds q->lock. */
static srv_batch_item *
take_batch(srv_batch *q)
{
	srv_batch_item *first = q->head, *last = first;
	for (size_t n = 1; n < q->max && last->next != NULL; n++)
		last = last->next;
	q->head = last->next;
	if (q->head == NULL)
		q->tail = NULL;
	last->next = NULL;
	return first;
}

/* Sends one batch from the head of the queue.  Called, and returns, with
 * q->lock held; lets it go while sending. */
static void
lead(srv_batch *q)
{
	srv_batch_item *first = take_batch(q);
	q->in_flight = true;
	pthread_mutex_unlock(&q->lock);
	q->send(q->ctx, first);
	pthread_mutex_lock(&q->lock);
	q->in_flight = false;
	/* The next leader first: its batch goes while these answers are read. */
	if (q->head != NULL)
		pthread_cond_signal(&q->head->done_cond);
	/* Each item's thread may return (and its item vanish) once it holds
	 * the lock again: read next before marking an item done. */
	for (srv_batch_item *it = first, *next; it != NULL; it = next) {
		next = it->next;
		it->done = true;
		pthread_cond_signal(&it->done_cond);
	}
}

void
srv_batch_submit(srv_batch *q, srv_batch_item *item)
{
	item->next = NULL;
	item->done = false;
	pthread_cond_init(&item->done_cond, NULL);
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = item;
	else
		q->head = item;
	q->tail = item;
	while (!item->done) {
		if (!q->in_flight)
			lead(q);             /* our item is queued: the batch holds it, or the next will */
		else
			pthread_cond_wait(&item->done_cond, &q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	pthread_cond_destroy(&item->done_cond);
}
