/*
 * ws_session.h - what every WebSocket session shares, after the 101: the
 * reader loop (this connection's thread), control frames, the close
 * handshake, and the socket's write lock.  A session kind (ws_chat.c,
 * ws_echo.c) says what a message from the peer does, through a
 * ws_handler; everything else is here.
 *
 * Writes: every frame is written under the socket's lock (the session's
 * outbox, outbox.h), whole, so a pong can never land inside a message.
 * Frames the reader sends (pong, ping, close, echo) may wait for room;
 * the chat's messages never wait: the outbox writes them from the
 * broadcasting thread.
 *
 * Thread-safety: the reader runs in the connection's thread; ws_send_frame
 * and ws_send_close from any thread.
 */
#ifndef PUSHQ_WS_SESSION_H
#define PUSHQ_WS_SESSION_H

#include "http/ws.h"
#include "server/core/conn.h"
#include "server/push/outbox.h"

#include <stdatomic.h>

typedef struct ws_session ws_session;

/* What a kind of session does; any hook but on_message may be NULL. */
typedef struct {
	/* A whole message from the peer (text or binary).  False: the
	 * session ends (after the hook has sent its close frame). */
	bool (*on_message)(ws_session *ws, const ws_event *ev);
	/* Before the first frame is read. */
	void (*on_start)(ws_session *ws);
	/* The reader has finished: nothing more will be read. */
	void (*on_end)(ws_session *ws);
} ws_handler;

struct ws_session {
	srv_conn *c;
	srv *s;
	const ws_handler *handler;
	ws_decoder *decoder;
	outbox out;                  /* the socket's sending side (outbox.h) */
	atomic_bool awaiting_pong;   /* we pinged; nothing heard since */
	double expires;              /* its token ends then (seconds since 1970; 0:
	                                never): the session closes with 1008 */
};

/*
 * Checks the upgrade request.  True with the Sec-WebSocket-Accept value in
 * accept; false after answering it (400, 405, 426 with the version).
 */
bool ws_upgrade_check(srv_conn *c, const http_request *req, char accept[29]);

/* The answer to a request that cannot be upgraded (before any 101). */
void ws_refuse(srv_conn *c, int status);

/* Makes ws a session on c of kind h (not started).  False: out of
 * memory (nothing to undo). */
bool ws_session_init(ws_session *ws, srv_conn *c, const ws_handler *h);

/* Frees what ws_session_init made, for a session that never ran. */
void ws_session_discard(ws_session *ws);

/*
 * Sends the 101 answer, takes the connection over (conn.h) and reads
 * frames until the session ends: a close, a protocol error, a peer that
 * stops answering pings, the server's stop.  Then lingers for the peer's
 * close frame and frees the session.
 */
void ws_session_run(ws_session *ws, const char accept[29]);

/* Frames that may wait for room (each takes the socket's lock itself).  A
 * close frame is the last frame ever sent.  False when the peer is gone. */
bool ws_send_frame(ws_session *ws, int opcode, const void *payload, size_t len);
void ws_send_close(ws_session *ws, int code);

#endif
