/*
 * message.h - a chat message, and the bytes one client is sent for it.
 *
 * A message is made once and shared by every queue it is put in: it is
 * reference counted, and freed when the last holder (a queue, the history,
 * a delivery on its way) releases it.  Its JSON is rendered once, when it
 * is made; only the end differs per client -- how many messages that
 * client did not get before it (`dropped`, `missed`).  So one delivery is
 * three pieces: a head of its own (a WebSocket frame header, an SSE "id:"
 * line, or nothing), the shared JSON, and a tail of its own.  A transport
 * writes the three with one sendmsg and copies nothing.
 *
 * Thread-safety: a message is immutable once made (only its count moves,
 * atomically); a delivery belongs to the thread that took it.
 */
#ifndef PUSHQ_MESSAGE_H
#define PUSHQ_MESSAGE_H

#include "http/http.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define SRV_TARGET_MAX 64   /* bytes of a channel or client name */

/* Where a message goes: a channel (every subscriber), or one client. */
typedef struct {
	bool direct;            /* true: `name` is a client, false: a channel */
	const char *name;
} srv_target;

/* One chat message, shared by every queue it was put in. */
typedef struct {
	atomic_int refs;
	uint64_t id;            /* increasing: a client queue's order */
	bool direct;            /* for one client (`to`), else for a channel */
	uint64_t sent_at_ms;    /* as in the JSON: when it was sent */
	char target[SRV_TARGET_MAX + 1];   /* that channel's or client's name */
	size_t json_len;
	char json[];            /* {"status":true,"msg":...,"id":N,"from":...,
	                           "channel":C | "to":N [,"event":E],
	                           "sent_at":MS  (no '}'); MS: when it was sent,
	                           milliseconds since 1970 (the server's clock) */
} srv_msg;

/* A message for `to` with no references yet (the caller sets them), or
 * NULL when out of memory.  from may be ""; event is NULL, or "join" /
 * "leave" for presence. */
srv_msg *srv_msg_new(uint64_t id, const srv_target *to, const char *from, const char *text,
                     size_t text_len, const char *event, uint64_t sent_at_ms);

/* FNV-1a of a name: how tables and the history's tags find names. */
uint64_t srv_name_hash(const char *name);

/* Drops one reference; frees the message with the last one.  NULL: no-op. */
void srv_msg_release(srv_msg *m);

/* What a client is told, with a message, about the ones it did not get
 * before it (docs/api.md, "Nothing unaccounted"). */
typedef struct {
	long dropped;   /* its queue was full when they were sent */
	long missed;    /* a resume reached back past the history: gone for good */
} srv_gap;

/* How a delivery is framed on the wire. */
typedef enum {
	SRV_WIRE_JSON,       /* the /get_msg body: the JSON alone */
	SRV_WIRE_WS,         /* one WebSocket text frame holding it */
	SRV_WIRE_SSE         /* one Server-Sent Event: "id: ID", "data: JSON" */
} srv_wire;

#define SRV_DELIVERY_HEAD_MAX 32
#define SRV_DELIVERY_TAIL_MAX 64

/*
 * One message on its way to one client: parts[0..2] are the head, the
 * shared JSON and the tail, `len` bytes in all.  It holds one reference to
 * `msg` (and the client's `gap`) until it is done (srv_delivery_done) or
 * given back to the client (delivery.h).
 */
struct srv_registry;

typedef struct {
	srv_msg *msg;
	srv_gap gap;
	struct srv_registry *registry;   /* whose delivery it is (its delay is counted) */
	struct iovec parts[3];
	size_t len;
	uint8_t head[SRV_DELIVERY_HEAD_MAX];
	char tail[SRV_DELIVERY_TAIL_MAX];
} srv_delivery;

/* Fills d's parts for m (d->msg and d->gap set) framed as `wire`. */
void srv_delivery_render(srv_delivery *d, srv_wire wire);

/* Appends d's bytes to b (for a transport that writes one buffer). */
void srv_delivery_append(http_buf *b, const srv_delivery *d);


#endif
