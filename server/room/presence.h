/*
 * presence.h - who is online in a channel: a subscriber with a WebSocket
 * or an SSE stream open, or a long poll waiting or answered less than
 * poll_timeout seconds ago (a name registered by /ab_b1 that never polled
 * is not online).
 *
 * The transports say when a client's connection begins and ends; the
 * reaper thread sweeps once a second for clients whose last reason to be
 * online has gone (a poll not renewed).  With events on, each coming
 * online and going offline is published into each of the client's
 * channels as a message with "event":"join" or "leave" (send.h), so it
 * travels like any message, through Redis too.
 *
 * Thread-safety: every function from any thread; begin/end from the
 * thread that holds a reference to the client.
 */
#ifndef PUSHQ_PRESENCE_H
#define PUSHQ_PRESENCE_H

#include "server/room/bridge.h"
#include "server/room/bridge_presence.h"
#include "server/room/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How presence is told: its events on or off, and how long a poll counts. */
typedef struct {
	srv_registry *registry;
	srv_bridge *bridge;          /* NULL without --redis */
	srv_presence_shared *shared; /* with --redis: every node's part */
	double poll_timeout;
	bool events;                 /* --presence-events */
} srv_presence;

/* A connection of client c of this kind begins / ends: a WebSocket session
 * or an SSE stream for its whole life, a long poll while it waits. */
void srv_presence_begin(const srv_presence *p, srv_client *c, srv_client_kind kind);
void srv_presence_end(const srv_presence *p, srv_client *c, srv_client_kind kind);

/* Marks offline the clients that are no longer online (and publishes
 * their leave events), and online those that are (a missed join).
 * With --redis, shares this node's part (bridge_presence.h).  Called by
 * the reaper once a second. */
void srv_presence_sweep(const srv_presence *p);

/* One client online in a channel. */
typedef struct {
	char name[SRV_NAME_MAX + 1];
	srv_client_kind kind;        /* ws, else sse, else poll */
	uint64_t since_ms;           /* when it came online, ms since 1970 */
} srv_presence_entry;

/*
 * The subscribers of `channel` online now, on every node, sorted by name,
 * each name once (kind: ws, else sse, else poll; since: the earliest): at
 * most max of them into out[].  Returns how many there are in all (maybe
 * more than max), or -1 when the other nodes' parts cannot be read (Redis
 * is unreachable).
 */
long srv_presence_list(const srv_presence *p, const char *channel,
                       srv_presence_entry *out, size_t max);

#endif
