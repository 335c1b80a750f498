/*
 * registry.h - the chat room: client name -> client, each with its own
 * bounded blocking queue of messages (the seed's `q_dict`, done right).
 *
 *   srv_registry_join        the seed's ab_b1: find or create a client
 *   srv_registry_broadcast   the seed's send_msg: put into every queue
 *   srv_client_take          the seed's get_msg: block on one queue
 *
 * A message is made once and shared by every queue it is put in: it is
 * reference counted, and freed when the last client has taken and released
 * it (or when a queue holding it is freed).
 *
 * Lifetimes: srv_registry_join/find return a *reference* to a client; it
 * stays valid (never freed, never reaped) until srv_client_release.  A client
 * nobody holds and nobody asked for in `ttl` seconds is forgotten by
 * srv_registry_reap.
 *
 * Thread-safety: every function may be called from any thread.  Locks: the
 * registry mutex is taken before any client queue's mutex, never after.
 * Sending never blocks on a queue: a full queue counts a drop instead.
 */
#ifndef PUSHQ_REGISTRY_H
#define PUSHQ_REGISTRY_H

#include "http/http.h"
#include "queue/queue.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_NAME_MAX 64   /* bytes of a client name */

/* One chat message, shared by every queue it was put in. */
typedef struct {
	atomic_int refs;
	size_t json_len;
	char json[];            /* {"status":true,"msg":...,"id":N,"from":...  (no '}') */
} srv_msg;

/* Drops one reference; frees the message with the last one. */
void srv_msg_release(srv_msg *m);

/*
 * Appends the SPEC's /get_msg answer for m: its JSON with ,"dropped":K}.
 * The same bytes are a WebSocket chat frame's payload.
 */
void srv_msg_append_json(http_buf *b, const srv_msg *m, long dropped);

typedef enum { SRV_CLIENT_POLL, SRV_CLIENT_WS } srv_client_kind;

typedef struct srv_client srv_client;
typedef struct srv_registry srv_registry;

/* A registry whose clients each get a queue of queue_size messages. */
srv_registry *srv_registry_new(long queue_size);

/* Frees every client and message.  No other thread may use r any more. */
void srv_registry_free(srv_registry *r);

/*
 * Finds client `name`, or creates it (an existing client keeps its queue
 * and messages; a long-poll client joining by WebSocket becomes a WS
 * client).  Returns a reference, or NULL when out of memory, the name is
 * empty or longer than SRV_NAME_MAX, or the registry is shut down.
 */
srv_client *srv_registry_join(srv_registry *r, const char *name,
                              srv_client_kind kind);

/* A reference to client `name`, or NULL if there is none. */
srv_client *srv_registry_find(srv_registry *r, const char *name);

/* Gives back a reference from join/find, and marks the client as seen. */
void srv_client_release(srv_registry *r, srv_client *c);

/*
 * Makes a message from `from` (may be "") with `text` and puts it, without
 * blocking, into every client's queue; a full queue counts one drop for
 * that client.  *id_out (may be NULL) gets the message id.  Returns true,
 * or false when out of memory (nothing was sent).
 */
bool srv_registry_broadcast(srv_registry *r, const char *from,
                            const char *text, size_t text_len,
                            uint64_t *id_out);

/*
 * Takes the client's next message, waiting up to timeout_s seconds (0: do
 * not wait).  On QUEUE_OK the caller owns one reference to *m_out, and
 * *dropped_out is how many messages the client missed since its last one.
 * Otherwise QUEUE_EMPTY (nothing in time) or QUEUE_SHUTDOWN (stopping).
 */
queue_rc srv_client_take(srv_registry *r, srv_client *c, double timeout_s,
                         srv_msg **m_out, long *dropped_out);

/*
 * Hands back a message taken with srv_client_take that could not be
 * delivered: the client's next take returns it first.  Takes over the
 * caller's reference (and the dropped count it carried).
 */
void srv_client_give_back(srv_registry *r, srv_client *c, srv_msg *m,
                          long dropped);

/*
 * Wakes one thread blocked in srv_client_take on c: that take returns
 * QUEUE_EMPTY with nothing delivered.  A WebSocket session uses it to stop
 * its writer thread.  (If two takers share the client, the wrong one may
 * wake: it simply waits again, or answers a long poll early.)  A full queue
 * needs no wake-up: its taker is not blocked.
 */
void srv_client_wake(srv_registry *r, srv_client *c);

/* The client's name (valid while the reference is held). */
const char *srv_client_name(const srv_client *c);

/* Forgets clients nobody holds and nobody asked for in ttl_s seconds.
 * Returns how many were removed. */
size_t srv_registry_reap(srv_registry *r, double ttl_s);

/* Shuts every queue down: waiting takes return QUEUE_SHUTDOWN at once. */
void srv_registry_shutdown(srv_registry *r);

/* Counters for /stats. */
typedef struct {
	uint64_t sent;       /* messages broadcast */
	uint64_t delivered;  /* messages taken by a client */
	uint64_t dropped;    /* puts refused by a full queue */
	size_t clients;
} srv_registry_counts;

void srv_registry_counts_get(srv_registry *r, srv_registry_counts *out);

/* Appends a JSON array of the clients: name, kind, queue depth, maxsize,
 * dropped, waiting. */
void srv_registry_clients_json(srv_registry *r, http_buf *b);

#endif
