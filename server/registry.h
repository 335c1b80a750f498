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
	uint64_t id;            /* global, increasing: a client queue's order */
	size_t json_len;
	char json[];            /* {"status":true,"msg":...,"id":N,"from":...,
	                           "sent_at":MS  (no '}'); MS: when it was sent,
	                           milliseconds since 1970 (the server's clock) */
} srv_msg;

/* Drops one reference; frees the message with the last one. */
void srv_msg_release(srv_msg *m);

/* What a client is told, with a message, about the ones it did not get
 * before it (docs/api.md, "Nothing unaccounted"). */
typedef struct {
	long dropped;   /* its queue was full when they were sent */
	long missed;    /* a resume reached back past the history: gone for good */
} srv_gap;

/* The end of a message's JSON that differs per client:
 * [,"missed":K],"dropped":K} -- written into tail; returns its length. */
#define SRV_GAP_TAIL_MAX 64
size_t srv_gap_tail(char tail[SRV_GAP_TAIL_MAX], const srv_gap *gap);

/*
 * Appends the /get_msg answer for m: its JSON with ,"dropped":K} (and
 * ,"missed":K before it when K > 0).  The same bytes are a WebSocket chat
 * frame's payload and an SSE event's data.
 */
void srv_msg_append_json(http_buf *b, const srv_msg *m, const srv_gap *gap);

typedef enum { SRV_CLIENT_POLL, SRV_CLIENT_WS, SRV_CLIENT_SSE } srv_client_kind;

typedef struct srv_client srv_client;
typedef struct srv_registry srv_registry;

/* A registry of at most max_clients clients, each with a queue of
 * queue_size messages, and a history of the last `history` messages for
 * resumes (history.h). */
srv_registry *srv_registry_new(long queue_size, long max_clients, long history);

/* Frees every client and message.  No other thread may use r any more. */
void srv_registry_free(srv_registry *r);

/* Why srv_registry_join gave no client. */
typedef enum {
	SRV_JOIN_OK,
	SRV_JOIN_BAD_NAME,   /* empty, or longer than SRV_NAME_MAX */
	SRV_JOIN_FULL,       /* max_clients are registered already */
	SRV_JOIN_NOMEM,
	SRV_JOIN_STOPPING    /* the registry is shut down */
} srv_join_rc;

/*
 * Finds client `name`, or creates it (an existing client keeps its queue
 * and messages; a long-poll client joining by WebSocket or SSE takes that
 * kind).  Returns a reference, or NULL with the reason in *why (why may
 * be NULL).
 */
srv_client *srv_registry_join(srv_registry *r, const char *name,
                              srv_client_kind kind, srv_join_rc *why);

/* A reference to client `name`, or NULL if there is none. */
srv_client *srv_registry_find(srv_registry *r, const char *name);

/* Gives back a reference from join/find, and marks the client as seen. */
void srv_client_release(srv_registry *r, srv_client *c);

/*
 * Makes a message from `from` (may be "") with `text` and puts it, without
 * blocking, into every client's queue; a full queue counts one drop for
 * that client.  Then calls the pusher of every client that took it.  *id_out (may be NULL) gets the message id.  Returns true,
 * or false when out of memory (nothing was sent).
 */
bool srv_registry_broadcast(srv_registry *r, const char *from,
                            const char *text, size_t text_len,
                            uint64_t *id_out);

/*
 * Resume: the client says it has seen every message up to id `since`.
 * From now on it is given every message with a higher id exactly once, in
 * id order -- what its queue still holds, then what the history holds that
 * its queue does not (its queue dropped it, or the client is new or was
 * reaped), then what is sent from now on -- and never one with a lower id.
 * Ids that neither holds any more are counted: the next message taken
 * carries them as gap.missed.  Drops counted before the resume are settled
 * by it (recovered, or counted as missed), so for every id above `since`
 * exactly one of these holds: it is delivered, or counted once in `missed`,
 * or counted once in `dropped`.  A `since` above the last id given out was
 * given out by an earlier run of the server: everything held is new to the
 * client then.  Returns the number of messages counted as missed.
 */
long srv_client_resume(srv_registry *r, srv_client *c, uint64_t since);

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

/*
 * Hands back a message taken with srv_client_take that could not be
 * delivered: the next take returns it again before anything newer (however
 * many are given back at once), without a bound check.  Takes over the
 * caller's reference (and the gap it carried).
 */
void srv_client_give_back(srv_registry *r, srv_client *c, srv_msg *m,
                          srv_gap gap);

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
 * A pusher: how a broadcast reaches a client that is not waiting in
 * srv_client_take but has a socket of its own to write to (a WebSocket).
 * After a broadcast has put its message into every queue, it calls, from
 * the broadcasting thread, the pusher of each client that took the message.
 * `push` must not block: it writes what it can (taking from the client's
 * queue) and leaves the rest for later.  A client may have several pushers
 * (two sessions under one name); each is called.  The struct is the
 * attacher's (embedded in its session); the registry only links it.
 */
typedef struct srv_pusher {
	void (*push)(void *ctx);     /* called with ctx after each put */
	void *ctx;
	struct srv_pusher *next;     /* the registry's link */
} srv_pusher;

/* Attaches p to c.  Broadcasts call it until srv_client_detach_pusher. */
void srv_client_attach_pusher(srv_client *c, srv_pusher *p);

/* Detaches p; when this returns, no broadcast is inside p->push or will
 * call it again. */
void srv_client_detach_pusher(srv_client *c, srv_pusher *p);

/*
 * Wakes every thread blocked in srv_client_take on c so that each looks at
 * its cancel flag; a taker whose flag is false goes on waiting (its wait is
 * not cut short).  Set the flag first, then call this.
 */
void srv_client_wake(srv_client *c);

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
	uint64_t missed;     /* counted by resumes: gone from the history */
	uint64_t last_id;    /* the last message id given out (0: none yet) */
	size_t history;      /* messages held for resumes */
	size_t clients;
	long max_clients;
} srv_registry_counts;

void srv_registry_counts_get(srv_registry *r, srv_registry_counts *out);

/* Notes how client c polls (timeout 0: short polling), for /stats. */
void srv_client_note_poll(srv_client *c, double timeout_s);

/*
 * Appends a JSON array of the clients (only the one called `only`, unless
 * NULL): name, kind ("poll", "ws", "sse"), short (a poll client whose last
 * /get_msg asked timeout=0), queue (depth now), peak (the most it held in
 * the last second or so), maxsize, dropped, waiting (threads blocked in
 * its queue now), sessions (WebSockets attached), idle (seconds since its
 * last request ended).
 */
void srv_registry_clients_json(srv_registry *r, http_buf *b, const char *only);

#endif
