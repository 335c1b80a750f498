/*
 * delivery.h - the seed's get_msg: a client takes its next message.
 *
 * Every transport takes from the client's own queue through here: a long
 * poll and an SSE stream block in it (the tutorial's q.get(timeout=10)),
 * a WebSocket drains it without waiting.  srv_client_next gives the bytes
 * to write, framed for the transport (message.h); the transport only writes
 * them, then says the delivery is done -- or gives it back, so that a
 * message taken for a client that could not be written to is not lost.
 *
 * Thread-safety: every function from any thread; several threads may take
 * from one client at once (each message goes to one of them, as in the
 * seed).  The caller holds a reference to the client (registry.h).
 */
#ifndef PUSHQ_DELIVERY_H
#define PUSHQ_DELIVERY_H

#include "server/room/registry.h"

#include <stdatomic.h>

/*
 * Takes the client's next message, waiting up to timeout_s seconds (0: do
 * not wait).  On QUEUE_OK the caller owns one reference to *m_out, and
 * *gap_out says what the client did not get since its last message.
 * Otherwise QUEUE_EMPTY (nothing in time), QUEUE_SHUTDOWN (stopping), or
 * QUEUE_CANCELLED: *cancel (may be NULL) became true and srv_client_wake
 * was called, e.g. because the long poll's client hung up.
 */
queue_rc srv_client_take(srv_registry *r, srv_client *c, double timeout_s,
                         const atomic_bool *cancel, srv_msg **m_out,
                         srv_gap *gap_out);

/* srv_client_take, rendered: on QUEUE_OK, *d holds the message framed as
 * `wire`, to be written and then ended with srv_delivery_done 
 * or srv_client_give_back_delivery. */
queue_rc srv_client_next(srv_registry *r, srv_client *c, double timeout_s,
                         const atomic_bool *cancel, srv_wire wire, srv_delivery *d);

/*
 * Hands back a message taken with srv_client_take that could not be
 * delivered: the next take returns it again before anything newer (however
 * many are given back at once), without a bound check.  Takes over the
 * caller's reference (and the gap it carried).
 */
void srv_client_give_back(srv_registry *r, srv_client *c, srv_msg *m,
                          srv_gap gap);

/* A delivery from srv_client_next was written: drops its reference, and
 * counts how long the message took from being sent (metrics.h). */
void srv_delivery_done(srv_delivery *d);

/* The same for a delivery from srv_client_next that did not leave at all. */
void srv_client_give_back_delivery(srv_registry *r, srv_client *c, srv_delivery *d);

/*
 * Wakes every thread blocked in srv_client_take on c so that each looks at
 * its cancel flag; a taker whose flag is false goes on waiting (its wait is
 * not cut short).  Set the flag first, then call this.
 */
void srv_client_wake(srv_client *c);

/* Notes how client c polls (timeout 0: short polling), for /stats. */
void srv_client_note_poll(srv_client *c, double timeout_s);

#endif
