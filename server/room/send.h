/*
 * send.h - the one way a chat message is sent, from POST /send_msg or a
 * WebSocket chat frame: into this node's queues (broadcast.h), or, with
 * --redis, into the room's stream, from which every node delivers it
 * (bridge.h).
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
	SRV_SEND_NOMEM,
	SRV_SEND_UNAVAILABLE        /* Redis is down: the message was not sent */
} srv_send_rc;

/* Sends a chat message from `from` (may be ""): through bridge b when it
 * is not NULL, else straight into r's queues.  *id_out (may be NULL) gets
 * its id. */
srv_send_rc srv_send_message(srv_registry *r, srv_bridge *b, const char *from,
                             const char *text, size_t len, uint64_t *id_out);

#endif
