/*
 * broadcast.h - the seed's send_msg: one message into every client's queue.
 *
 * A broadcast makes the message (its JSON once), gives it the next id, and
 * puts it, without blocking, into every queue; a full queue counts one drop
 * for that client.  Broadcasts are serialised, so every queue receives
 * messages in id order.  Then it calls the pusher of every client that took
 * the message and has one (a WebSocket session): the write happens in the
 * broadcasting thread, where the message is, without waking another.
 *
 * Thread-safety: every function from any thread.
 */
#ifndef PUSHQ_BROADCAST_H
#define PUSHQ_BROADCAST_H

#include "server/room/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Broadcasts a message from `from` (may be "") with `text` as the next id;
 * *id_out (may be NULL) gets it.  False when out of memory (nothing was
 * sent).
 */
bool srv_registry_broadcast(srv_registry *r, const char *from,
                            const char *text, size_t text_len,
                            uint64_t *id_out);

/*
 * The same for a message whose id was given elsewhere (a Redis stream,
 * bridge.h): ids must come in increasing order; one not above the last is
 * ignored (delivered already), and ids skipped on the way are counted as
 * drops for every client.  sent_at_ms: when it was sent (0: now).  False
 * when out of memory.
 */
bool srv_registry_deliver(srv_registry *r, uint64_t id, const char *from,
                          const char *text, size_t text_len, uint64_t sent_at_ms);

/* The next message is numbered after last_id (a node that joins a stream
 * where ids are already given out).  No effect if it is behind. */
void srv_registry_start_after(srv_registry *r, uint64_t last_id);

/*
 * A pusher: how a broadcast reaches a client that is not waiting in its
 * queue but has a socket of its own to write to (a WebSocket).  After a
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
	struct srv_pusher *next;     /* the room's link */
} srv_pusher;

/* Attaches p to c.  Broadcasts call it until srv_client_detach_pusher. */
void srv_client_attach_pusher(srv_client *c, srv_pusher *p);

/* Detaches p; when this returns, no broadcast is inside p->push or will
 * call it again. */
void srv_client_detach_pusher(srv_client *c, srv_pusher *p);

#endif
