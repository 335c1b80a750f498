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
 * Caller holds q->lock; the queue is not empty. */
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

/* Sends one batch from the head of the queue, as its leader (in_flight is
 * set), then hands the lead on or ends it, and wakes the batch. */
static void
lead(srv_batch *q)
{
	pthread_mutex_lock(&q->lock);
	srv_batch_item *first = take_batch(q);
	pthread_mutex_unlock(&q->lock);

	q->send(q->ctx, first);

	pthread_mutex_lock(&q->lock);
	srv_batch_item *next_leader = q->head;
	if (next_leader != NULL)
		next_leader->state = SRV_BATCH_LEAD;   /* in_flight stays set: it leads now */
	else
		q->in_flight = false;
	pthread_mutex_unlock(&q->lock);
	/* The next leader first: its batch goes while these wake up. */
	if (next_leader != NULL)
		sem_post(&next_leader->wake);
	/* An item's thread may return (and its item vanish) once woken: read
	 * next before waking it. */
	for (srv_batch_item *it = first, *next; it != NULL; it = next) {
		next = it->next;
		it->state = SRV_BATCH_DONE;
		sem_post(&it->wake);
	}
}

void
srv_batch_submit(srv_batch *q, srv_batch_item *item)
{
	item->next = NULL;
	item->state = SRV_BATCH_QUEUED;
	sem_init(&item->wake, 0, 0);
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = item;
	else
		q->head = item;
	q->tail = item;
	bool leads = !q->in_flight;
	q->in_flight = true;
	pthread_mutex_unlock(&q->lock);
	/* Each wake-up says done or lead; a leader whose own item was not in
	 * its batch (more than max queued before it) waits for it like any. */
	for (;;) {
		if (leads)
			lead(q);
		while (sem_wait(&item->wake) != 0)
			;                    /* EINTR */
		if (item->state == SRV_BATCH_DONE)
			break;
		leads = true;            /* handed the lead: our item heads the queue */
	}
	sem_destroy(&item->wake);
}
