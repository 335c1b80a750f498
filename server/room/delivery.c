/*
 * delivery.c - taking a client's next message, and giving one back (see
 * delivery.h).
 *
 * A message comes from the client's resume backlog first (resume.h), then
 * from its queue.  Taking touches no registry lock: the taker holds a
 * reference to the client and waits in the client's own queue.
 */
#include "server/room/delivery.h"
#include "server/room/client.h"
#include "server/common/clock.h"

queue_rc
srv_client_take(srv_registry *r, srv_client *c, double timeout_s,
                const atomic_bool *cancel, srv_msg **m_out, srv_gap *gap_out)
{
	void *item = srv_replay_next(c);
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

queue_rc
srv_client_next(srv_registry *r, srv_client *c, double timeout_s,
                const atomic_bool *cancel, srv_wire wire, srv_delivery *d)
{
	queue_rc rc = srv_client_take(r, c, timeout_s, cancel, &d->msg, &d->gap);
	if (rc == QUEUE_OK) {
		d->registry = r;
		srv_delivery_render(d, wire);
	}
	return rc;
}

void
srv_delivery_done(srv_delivery *d)
{
	if (d->registry != NULL)
		srv_delay_observe(&d->registry->delay, srv_wall_clock_ms() - d->msg->sent_at_ms);
	srv_msg_release(d->msg);
	d->msg = NULL;
}

void
srv_client_give_back(srv_registry *r, srv_client *c, srv_msg *m, srv_gap gap)
{
	atomic_fetch_add(&c->dropped_unreported, gap.dropped);
	atomic_fetch_add(&c->missed_unreported, gap.missed);
	atomic_fetch_sub(&r->delivered, 1);
	if (srv_replay_give_back(c, m))
		return;
	if (queue_give_back(c->q, m) != QUEUE_OK) {
		/* Shut down (the server stops) or out of memory: it is lost, and
		 * counted as a drop so that nobody is told otherwise. */
		srv_msg_release(m);
		srv_client_count_drops(r, c, 1);
	}
}

void
srv_client_give_back_delivery(srv_registry *r, srv_client *c, srv_delivery *d)
{
	srv_client_give_back(r, c, d->msg, d->gap);
	d->msg = NULL;
}

void
srv_client_wake(srv_client *c)
{
	queue_wake_getters(c->q);
}

void
srv_client_note_poll(srv_client *c, double timeout_s)
{
	atomic_store(&c->short_polling, timeout_s == 0);
}
