/*
 * send.h - the one way a chat message is sent, from POST /send_msg or a
 * WebSocket chat frame: into this node's queues (broadcast.h), or, with
 * --redis, into the room's stream, from which every node delivers it to
 * its own receivers (bridge.h).
 * Thread-safety: from any thread.
 */
#ifndef PUSHQ_SEND_H
#define PUSHQ_SEND_H

#include "server/room/bridge.h"
#include "server/room/registry.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
	SRV_SENT,
	SRV_SEND_UNKNOWN,           /* a direct message to a name not here (one node) */
	SRV_SEND_NOMEM,
	SRV_SEND_UNAVAILABLE        /* Redis is down: the message was not sent */
} srv_send_rc;

/* What a send did. */
typedef struct {
	uint64_t id;
	long receivers;             /* queues it went into; -1: not known yet
	                               (--redis: every node delivers it later) */
} srv_sent;

/* Sends a message from `from` (may be "") to `to` (event: NULL, or a
 * presence event): through bridge b when it is not NULL, else straight
 * into r's queues.  *out (may be NULL) says what it did. */
srv_send_rc srv_send_message(srv_registry *r, srv_bridge *b, const srv_target *to,
                             const char *from, const char *text, size_t len,
                             const char *event, srv_sent *out);

#endif
