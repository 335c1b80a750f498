/*
 * registry.h - the room's clients: name -> client, each with its own
 * bounded blocking queue of messages (the seed's `q_dict`, done right).
 *
 *   srv_registry_join      the seed's ab_b1: find or create a client
 *   srv_registry_broadcast the seed's send_msg: put into every queue
 *                          (broadcast.h)
 *   srv_client_next        the seed's get_msg: block on one queue
 *                          (delivery.h)
 *
 * Lifetimes: srv_registry_join/find return a *reference* to a client; it
 * stays valid (never freed, never reaped) until srv_client_release.  A client
 * nobody holds and nobody asked for in `ttl` seconds is forgotten by
 * srv_registry_reap.
 *
 * Thread-safety: every function may be called from any thread.  Sending
 * never blocks on a queue: a full queue counts a drop instead.
 */
#ifndef PUSHQ_REGISTRY_H
#define PUSHQ_REGISTRY_H

#include "queue/queue.h"
#include "server/room/delay.h"
#include "server/room/message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_NAME_MAX 64   /* bytes of a client name */

typedef enum { SRV_CLIENT_POLL, SRV_CLIENT_WS, SRV_CLIENT_SSE } srv_client_kind;

typedef struct srv_client srv_client;
typedef struct srv_registry srv_registry;

/* A registry of at most max_clients clients, each with a queue of
 * queue_size messages, and a history of the last `history` messages for
 * resumes (history.h).  NULL when out of memory. */
srv_registry *srv_registry_new(long queue_size, long max_clients, long history);

/* Frees every client and message.  No other thread may use r any more. */
void srv_registry_free(srv_registry *r);

/* Why srv_registry_join gave no client. */
typedef enum {
	SRV_JOIN_OK,
	SRV_JOIN_BAD_NAME,   /* empty, or longer than SRV_NAME_MAX */
	SRV_JOIN_FULL,       /* max_clients are registered already */
	SRV_JOIN_NOMEM,
	SRV_JOIN_STOPPING,   /* the registry is shut down */
	SRV_JOIN_BAD_CHANNELS,     /* a bad channel name, or too many for one client */
	SRV_JOIN_NO_CHANNEL_ROOM   /* a new channel past max-channels */
} srv_join_rc;

/*
 * Finds client `name`, or creates it (an existing client keeps its queue
 * and messages; a long-poll client joining by WebSocket or SSE takes that
 * kind).  Returns a reference, or NULL with the reason in *why (why may
 * be NULL).
 */
srv_client *srv_registry_join(srv_registry *r, const char *name,
                              srv_client_kind kind, srv_join_rc *why);

/* The same, and the client's channels become exactly `channels` (NULL:
 * unchanged; a new client is in the default channel, channel.h). */
struct srv_channel_list_s;
srv_client *srv_registry_join_in(srv_registry *r, const char *name, srv_client_kind kind,
                                 const struct srv_channel_list_s *channels, srv_join_rc *why);

/* The same; a new client gets `new_channels` when `channels` is NULL
 * (NULL too: the default channel). */
srv_client *srv_registry_join_full(srv_registry *r, const char *name, srv_client_kind kind,
                                   const struct srv_channel_list_s *channels,
                                   const struct srv_channel_list_s *new_channels,
                                   srv_join_rc *why);

/* A reference to client `name`, or NULL if there is none. */
srv_client *srv_registry_find(srv_registry *r, const char *name);

/* Gives back a reference from join/find, and marks the client as seen.
 * NULL is a no-op. */
void srv_client_release(srv_registry *r, srv_client *c);

/* The client's name (valid while the reference is held). */
const char *srv_client_name(const srv_client *c);

/* Forgets clients nobody holds and nobody asked for in ttl_s seconds.
 * Returns how many were removed. */
size_t srv_registry_reap(srv_registry *r, double ttl_s);

/* A client saying goodbye (POST /leave): forgotten now when nobody holds
 * it (SRV_LEFT), else as soon as its last holder lets go (SRV_LEAVING: the
 * reaper, within a second).  Joining again before that keeps it. */
typedef enum { SRV_LEFT, SRV_LEAVING, SRV_LEAVE_UNKNOWN } srv_leave_rc;
srv_leave_rc srv_registry_leave(srv_registry *r, const char *name);

/* Shuts every queue down: waiting takes return QUEUE_SHUTDOWN at once,
 * and no client joins any more. */
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
	uint64_t started[3];  /* connections begun: [SRV_CLIENT_POLL] polls, [WS], [SSE] */
} srv_registry_counts;

void srv_registry_counts_get(srv_registry *r, srv_registry_counts *out);

/* One client as /stats shows it. */
typedef struct {
	const char *name;    /* valid during the visit only */
	srv_client_kind kind;
	bool short_polling;  /* a poll client whose last /get_msg asked timeout=0 */
	size_t queued;       /* depth now */
	size_t peak;         /* the most it held in the last second or so */
	long maxsize;
	long dropped;        /* in all */
	unsigned waiting;    /* threads blocked in its queue now */
	int sessions;        /* WebSocket sessions attached */
	int sse_open;        /* SSE streams open */
	int polls_waiting;   /* long polls waiting */
	double idle;         /* seconds since its last request ended */
} srv_client_info;

/* The delivery delay histogram (delay.h), read by /metrics. */
const srv_delay *srv_registry_delay(srv_registry *r);

/* One channel as /metrics shows it: the biggest ones only. */
typedef struct {
	char name[SRV_TARGET_MAX + 1];
	size_t subscribers;
	uint64_t published;
} srv_channel_info;

/* The `max` channels with the most subscribers into out[] (by size, then
 * name); returns how many. */
size_t srv_registry_top_channels(srv_registry *r, srv_channel_info *out, size_t max);

/*
 * Calls fn for every client (only the one called `only`, unless NULL),
 * under the table's shared lock: fn must not call back into the registry.
 */
void srv_registry_visit(srv_registry *r, const char *only,
                        void (*fn)(const srv_client_info *info, void *ctx), void *ctx);

#endif
