/*
 * bridge.h - several pushq nodes share one room through Redis (--redis).
 *
 * Without --redis a message goes straight into this process's queues
 * (broadcast.h).  With it, every message goes through one Redis *stream*,
 * and every node -- the sender's too -- reads the stream and puts each
 * entry into its own clients' queues through the same broadcast path:
 *
 *   POST /send_msg, a WebSocket chat frame
 *     -> srv_send_message (send.h) -> srv_bridge_publish: queued with the
 *        sends that arrive while the previous batch is on its way
 *        (group commit, bridge_batch.h), then the whole batch in one
 *        EVALSHA: INCRBY KEY:seq, XADD KEY MAXLEN ~ N for each (one atomic
 *        step: the numeric ids come from the counter, so they increase in
 *        the stream's own order and are the same on every node)
 *   bridge thread (one per node, its own connection)
 *     -> XREAD BLOCK ... STREAMS KEY <last entry delivered>
 *     -> srv_registry_deliver(id, channel or to, from, text): every local
 *        queue it is for
 *
 * Why a stream and not PUBLISH: a node whose connection drops (or a Redis
 * that restarts with its data) resumes XREAD after the last entry it
 * delivered, so nothing Redis still holds is lost; pub/sub forgets whatever
 * was published during the gap.  Ids a node can no longer read (trimmed by
 * MAXLEN while it was away) are counted as dropped for its clients.
 *
 * Faults: an unreachable Redis never stops the HTTP service.  The bridge
 * thread retries with back-off (0.1 s doubling to 2 s); meanwhile publishing
 * fails at once (POST /send_msg answers 503) -- nothing is reported as sent
 * that was not.  A batch whose connection breaks before its reply is in
 * doubt: its sends wait (up to 3 s) for Redis to answer again and are
 * looked up in the stream by a token each entry carries -- 200 with the id
 * if Redis wrote them, 503 if not.  Only past those 3 s can a send be
 * answered 503 that a Redis restarted from its files still holds.
 *
 * Thread-safety: srv_bridge_publish and srv_bridge_state_get from any
 * thread (the batch has its lock, the side connection its own);
 * srv_bridge_main in one thread of its own.
 */
#ifndef PUSHQ_BRIDGE_H
#define PUSHQ_BRIDGE_H

#include "server/room/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_bridge srv_bridge;

/* Parses redis://HOST:PORT[/DB] (HOST: a name, an IPv4 address or an IPv6
 * one without brackets; PORT 1-65535; DB 0-1000000).  False, with a reason
 * in err, if malformed. */
bool srv_bridge_parse_url(const char *url, char *host, size_t host_len, int *port,
                          int *db, char *err, size_t errlen);

/*
 * A bridge to the stream `key` at `url` (MAXLEN ~ history) that delivers
 * into r, and whose thread ends once stop_fd is readable.  Connects lazily.
 * NULL: no memory, or a malformed url or key.
 */
srv_bridge *srv_bridge_new(const char *url, const char *key, long history,
                           srv_registry *r, int stop_fd);
void srv_bridge_free(srv_bridge *b);

/* The bridge thread: reads the stream into the registry until stop. */
void *srv_bridge_main(void *bridge);

/* Appends a message for `to` to the stream (event: NULL or a presence
 * event); *id_out gets its id.  Blocks for one round trip to Redis (shared
 * with the sends that batch with it), or up to 3 s when Redis went away
 * under it.  False when Redis is unreachable (the message was not sent). */
bool srv_bridge_publish(srv_bridge *b, const srv_target *to, const char *from,
                        const char *text, size_t len, const char *event, uint64_t *id_out);

/* The link's state, for /stats. */
typedef struct {
	bool connected;
	const char *key;              /* the stream (valid while b lives) */
	uint64_t last_id;             /* the last message id delivered */
	char last_entry[64];          /* the stream id XREAD continues after */
	uint64_t reconnects;
	uint64_t behind;              /* ids given out that this node has not read */
} srv_bridge_state;

void srv_bridge_state_get(srv_bridge *b, srv_bridge_state *out);

#endif
