/*
 * bridge_presence.h - with --redis, presence covers every node.
 *
 * Each node keeps its own part in Redis: a hash KEY:presence:<node id>
 * ("channel<TAB>name" -> "kind since_ms"), rewritten by the presence sweep
 * when it changed and renewed otherwise, once a second; it expires
 * SRV_PRESENCE_TTL_MS after the last renewal, so a node that dies drops out
 * within that time.  The set KEY:presence:nodes names the nodes; a reader
 * forgets the ones whose hash has expired.  GET /presence merges this
 * node's live list with the other nodes' parts.
 *
 * Thread-safety: put from one thread (the sweep); others from any thread.
 */
#ifndef PUSHQ_BRIDGE_PRESENCE_H
#define PUSHQ_BRIDGE_PRESENCE_H

#include "server/room/bridge.h"
#include "server/room/registry.h"

#include <stddef.h>
#include <stdint.h>

#define SRV_PRESENCE_TTL_MS 6000

/* One client online in one channel, on some node. */
typedef struct {
	char channel[SRV_TARGET_MAX + 1];
	char name[SRV_NAME_MAX + 1];
	srv_client_kind kind;
	uint64_t since_ms;
} srv_presence_row;

typedef struct srv_presence_shared srv_presence_shared;

/* This node's part, through bridge b, under a random node id.  NULL: no
 * memory. */
srv_presence_shared *srv_presence_shared_new(srv_bridge *b);
void srv_presence_shared_free(srv_presence_shared *ps);

/* This node's rows now: written when they changed, renewed otherwise.
 * False when Redis is unreachable (tried again at the next sweep). */
bool srv_presence_shared_put(srv_presence_shared *ps, const srv_presence_row *rows, size_t n);

/* The other nodes' rows for `channel`, in a malloc'ed array (*out; the
 * caller frees it).  Returns how many, or -1 when Redis is unreachable. */
long srv_presence_shared_others(srv_presence_shared *ps, const char *channel,
                                srv_presence_row **out);

#endif
