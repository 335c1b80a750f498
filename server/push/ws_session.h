/*
 * ws_session.h - what every WebSocket session shares, after the 101: the
 * reader loop (this connection's thread), control frames, the close
 * handshake, and the socket's write lock.  A session kind (ws_chat.c,
 * ws_echo.c) says what a message from the peer does, through a
 * ws_handler; everything else is here.
 *
 * Writes: every frame is written under `write_lock`, whole, so a pong can
 * never land inside a message.  Frames the reader sends (pong, ping, close,
 * echo) may wait for room in the socket (srv_send_all); the chat's messages
 * never wait (ws_send_nowait): what does not fit stays in `unsent`, and
 * the next writer sends it first.
 *
 * Thread-safety: the reader runs in the connection's thread; the write
 * calls from any thread holding write_lock (ws_write_lock).
 */
#ifndef PUSHQ_WS_SESSION_H
#define PUSHQ_WS_SESSION_H

#include "http/ws.h"
#include "server/core/conn.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

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
	/* Right after ws_write_unlock let the lock go: the chat writes what
	 * broadcasts put into its queue while somebody held the lock. */
	void (*after_unlock)(ws_session *ws);
} ws_handler;

struct ws_session {
	srv_conn *c;
	srv *s;
	const ws_handler *handler;
	ws_decoder *decoder;
	pthread_mutex_t write_lock;  /* the socket's sending side */
	bool close_sent;             /* under write_lock: nothing more may be sent */
	bool broken;                 /* under write_lock: a send failed; the reader ends */
	http_buf unsent;             /* under write_lock: the rest of a frame partly sent */
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

/* The write lock.  ws_write_unlock runs the handler's after_unlock;
 * ws_write_unlock_quiet does not -- for a session that is ending, where
 * nothing more is to be written. */
void ws_write_lock(ws_session *ws);
void ws_write_unlock(ws_session *ws);
void ws_write_unlock_quiet(ws_session *ws);

/* Frames that may wait for room (each takes the write lock itself).  A
 * close frame is the last frame ever sent.  False when the peer is gone. */
bool ws_send_frame(ws_session *ws, int opcode, const void *payload, size_t len);
void ws_send_close(ws_session *ws, int code);

/* ---- Writing without waiting; the caller holds write_lock ---- */

typedef enum { WS_SENT, WS_WOULD_BLOCK, WS_SEND_FAILED } ws_send_result;

/* One non-blocking sendmsg of iov (total bytes); *written: how many left. */
ws_send_result ws_send_nowait(ws_session *ws, const struct iovec *iov, int iovcnt,
                              size_t total, size_t *written);

/* Writes what is left of a partly written frame.  True when all is gone. */
bool ws_send_unsent(ws_session *ws);

/* Keeps the bytes of iov that did not leave (from `written` on) in unsent. */
void ws_keep_unsent(ws_session *ws, const struct iovec *iov, int iovcnt, size_t written);

/* A send failed for good: the reader's poll ends at once. */
void ws_mark_broken(ws_session *ws);

#endif
