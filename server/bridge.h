/*
 * bridge.h - several pushq nodes share one room through Redis (--redis).
 *
 * Without --redis a message goes straight into this process's queues
 * (srv_registry_broadcast).  With it, every message goes through one Redis
 * *stream*, and every node -- the sender's too -- reads the stream and puts
 * each entry into its own clients' queues through the same registry path:
 *
 *   POST /send_msg, a WebSocket chat frame
 *     -> srv_send_message -> EVAL: INCR KEY:seq, XADD KEY MAXLEN ~ N (one
 *        atomic step: the numeric id is the counter, so ids increase in the
 *        stream's own order and are the same on every node)
 *   bridge thread (one per node, its own connection)
 *     -> XREAD BLOCK ... STREAMS KEY <last entry delivered>
 *     -> srv_registry_deliver(id, from, text): every local queue
 *
 * Why a stream and not PUBLISH: a node whose connection drops (or a Redis
 * that restarts with its data) resumes XREAD after the last entry it
 * delivered, so nothing Redis still holds is lost; pub/sub forgets whatever
 * was published during the gap.  Ids a node can no longer read (trimmed by
 * MAXLEN while it was away) are counted as dropped for its clients.
 *
 * Faults: an unreachable Redis never stops the HTTP service.  The bridge
 * thread retries with back-off (0.1 s doubling to 2 s); meanwhile sends
 * fail at once with SRV_SEND_UNAVAILABLE (POST /send_msg answers 503) --
 * nothing is reported as sent that was not.
 *
 * Thread-safety: srv_send_message and srv_bridge_stats from any thread
 * (the publishing connection has its own lock); srv_bridge_main in one
 * thread of its own.
 */
#ifndef PUSHQ_BRIDGE_H
#define PUSHQ_BRIDGE_H

#include "server/server.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct srv_bridge srv_bridge;

/* Parses redis://HOST:PORT[/DB]; false (with a reason in err) if malformed. */
bool srv_bridge_parse_url(const char *url, char *host, size_t host_len, int *port,
                          int *db, char *err, size_t errlen);

/* A bridge for s (s->cfg.redis_* set); connects lazily.  NULL: no memory. */
srv_bridge *srv_bridge_new(srv *s);
void srv_bridge_free(srv_bridge *b);

/* The bridge thread: reads the stream into the registry until stop. */
void *srv_bridge_main(void *bridge);

typedef enum {
	SRV_SENT,
	SRV_SEND_NOMEM,
	SRV_SEND_UNAVAILABLE        /* Redis is down: the message was not sent */
} srv_send_rc;

/* Sends a chat message: into Redis with --redis, else straight into the
 * local queues.  *id_out (may be NULL) gets its id. */
srv_send_rc srv_send_message(srv *s, const char *from, const char *text, size_t len,
                             uint64_t *id_out);

/* Appends the bridge's state for /stats: {"connected":...,"last_id":...,
 * "last_entry":"...","reconnects":N,"behind":N} (or null without --redis). */
void srv_bridge_stats_json(srv *s, http_buf *b);

#endif
