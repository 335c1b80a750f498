/*
 * bridge_link.h - inside the room: a Redis command on one of the bridge's
 * publishing connections, for the room's other users of Redis (presence,
 * bridge_presence.c).  Only room/ includes this.
 */
#ifndef PUSHQ_BRIDGE_LINK_H
#define PUSHQ_BRIDGE_LINK_H

#include "server/room/bridge.h"

#include <stddef.h>

/* Runs argv on a publishing connection: a hiredis redisReply of the
 * wanted REDIS_REPLY_* type (the caller frees it with freeReplyObject),
 * or NULL when Redis is unreachable or answered otherwise.  Any thread. */
void *srv_bridge_run(srv_bridge *b, int type, int argc, const char **argv, const size_t *lens);

/* The room's stream key ("pushq:room"): other keys are named after it. */
const char *srv_bridge_key(const srv_bridge *b);

#endif
