/*
 * broadcast.h - the seed's send_msg, and what it grows into: one message
 * into the queue of every subscriber of a channel (the tutorial's
 * `for q in q_dict.values(): q.put(msg)`, for the channel "room"), or of
 * one client (`q_dict[name].put(msg)`: a direct message).
 *
 * A publish makes the message (its JSON once), gives it the next id, and
 * puts it, without blocking, into each receiver's queue; a full queue
 * counts one drop for that client.  Publishes are serialised, so every
 * queue receives messages in id order, whatever their channel.  Then it
 * calls the pusher of every receiver that took the message and has one (a
 * WebSocket session, an SSE stream): the write happens in the publishing thread, where
 * the message is, without waking another.
 *
 * Thread-safety: every function from any thread.
 */
#ifndef PUSHQ_BROADCAST_H
#define PUSHQ_BROADCAST_H

#include "server/room/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	SRV_PUBLISH_OK,
	SRV_PUBLISH_UNKNOWN,    /* a direct message to a name that is not here */
	SRV_PUBLISH_NOMEM       /* nothing was sent */
} srv_publish_rc;

/*
 * Publishes a message from `from` (may be "") with `text` to `to` (a
 * channel: 0 receivers is fine; a client: it must be known) as the next
 * id.  event: NULL, or "join"/"leave" (presence).  *id_out gets the id,
 * *receivers_out how many queues took it (both may be NULL).
 */
srv_publish_rc srv_registry_publish(srv_registry *r, const srv_target *to, const char *from,
                                    const char *text, size_t text_len, const char *event,
                                    uint64_t *id_out, size_t *receivers_out);

/* srv_registry_publish to the default channel ("room"); false when out of
 * memory. */
bool srv_registry_broadcast(srv_registry *r, const char *from,
                            const char *text, size_t text_len,
                            uint64_t *id_out);

/*
 * The same for a message whose id was given elsewhere (a Redis stream,
 * bridge.h): ids must come in increasing order; one not above the last is
 * ignored (delivered already), and ids skipped on the way are counted as
 * drops for every client.  A direct message for a name not here uses its
 * id up and reaches nobody.  sent_at_ms: when it was sent (0: now).  False
 * when out of memory.
 */
bool srv_registry_deliver(srv_registry *r, uint64_t id, const srv_target *to, const char *from,
                          const char *text, size_t text_len, const char *event,
                          uint64_t sent_at_ms);

/* The next message is numbered after last_id (a node that joins a stream
 * where ids are already given out).  No effect if it is behind. */
void srv_registry_start_after(srv_registry *r, uint64_t last_id);

/*
 * A pusher: how a broadcast reaches a client that is not waiting in its
 * queue but has a socket of its own to write to (a WebSocket, an SSE
 * stream: server/push/outbox.h).  After a
 * broadcast has put its message into every queue and let its locks go, it
 * calls, from the broadcasting thread, the pusher of each client that took
 * the message.  `push` must not block: it writes what it can (taking from
 * the client's queue, delivery.h) and leaves the rest for later.  A client
 * may have several pushers (two sessions under one name); each is called.
 * The struct is the attacher's (embedded in its session); the room only
 * links it.
 */
typedef struct srv_pusher {
	void (*push)(void *ctx);     /* called with ctx after each put */
	void *ctx;
	srv_client_kind kind;        /* whose: a WebSocket's counts in the client's
	                                sessions (presence, /stats) */
	struct srv_pusher *next;     /* the room's link */
} srv_pusher;

/* Attaches p to c.  Broadcasts call it until srv_client_detach_pusher. */
void srv_client_attach_pusher(srv_client *c, srv_pusher *p);

/* Detaches p; when this returns, no broadcast is inside p->push or will
 * call it again. */
void srv_client_detach_pusher(srv_client *c, srv_pusher *p);

#endif
