/*
 * ws_session.c - one WebSocket connection after the 101, whatever its kind
 * (see ws_session.h): the reader, control frames, the close handshake.
 *
 * DESIGN (thread-per-connection, threads that block: see docs/design.md)
 * The reader is the connection's own thread.  It blocks in poll() on the
 * socket (and the server's stop_fd), decodes frames, answers pings, hands
 * each whole message to the session's kind (ws_handler.on_message), and
 * pings a peer that has been quiet for --poll-timeout seconds; a peer
 * still quiet one interval later is dropped.
 *
 * Ending: the reader decides.  It sends its close frame, lets the kind
 * finish (on_end: the chat stops its pushes and its writer thread), and
 * lingers for the peer's close; the connection thread then closes the
 * socket.  A send that fails shuts the socket down (outbox.h), which ends
 * the reader's poll at once.  After a close frame is sent nothing else is.
 */
#include "server/push/ws_session.h"
#include "server/core/auth.h"
#include "server/common/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long to wait for the peer's close frame after ours. */
#define CLOSE_LINGER 1.0
/* Bytes read at a time during a session (HTTP reads SRV_READ_SIZE). */
#define WS_READ_SIZE 2048

/* ------------------------------------------------------------------ */
/* Frames that may wait: pong, ping, close, echo                       */
/* ------------------------------------------------------------------ */

/* Sends one whole, encoded frame (and frees it), after the rest of a
 * message frame if one was partly written.  A close frame is the last one
 * ever sent.  When the server stops, nothing waits for a peer that reads
 * nothing (srv_send_all). */
static bool
send_encoded(ws_session *ws, http_buf *frame, bool is_close)
{
	outbox_lock(&ws->out);
	bool ok = !frame->failed && outbox_send_locked(&ws->out, frame->data, frame->len);
	if (is_close)
		ws->out.closed = true;
	outbox_unlock(&ws->out);
	http_buf_free(frame);
	return ok;
}

bool
ws_send_frame(ws_session *ws, int opcode, const void *payload, size_t len)
{
	http_buf frame = { 0 };
	ws_frame_append(&frame, opcode, payload, len);
	return send_encoded(ws, &frame, opcode == WS_OP_CLOSE);
}

void
ws_send_close(ws_session *ws, int code)
{
	http_buf frame = { 0 };
	ws_close_frame_append(&frame, code);
	send_encoded(ws, &frame, true);
}

/* ------------------------------------------------------------------ */
/* The reader (the connection's thread)                                */
/* ------------------------------------------------------------------ */

/* Handles one decoded event.  Returns false when the session ends. */
static bool
handle_event(ws_session *ws, ws_result r, const ws_event *ev)
{
	switch (r) {
	case WS_MESSAGE:
		return ws->handler->on_message(ws, ev);
	case WS_PING:
		return ws_send_frame(ws, WS_OP_PONG, ev->data, ev->len);
	case WS_PONG:
		return true;
	case WS_CLOSE:
	case WS_FAIL:
		ws_send_close(ws, ev->close_code);
		return false;
	default:
		return true;
	}
}

/* Feeds received bytes to the decoder, handling every event in them. */
static bool
feed(ws_session *ws, const uint8_t *data, size_t len)
{
	atomic_store(&ws->awaiting_pong, false);  /* any frame shows it is alive */
	while (len > 0) {
		size_t used;
		ws_event ev;
		ws_result r = ws_decoder_feed(ws->decoder, data, len, &used, &ev);
		data += used;
		len -= used;
		if (r == WS_NEED_MORE)
			return true;
		if (!handle_event(ws, r, &ev))
			return false;
	}
	return true;
}

/* Reads frames until the session ends. */
static void
read_frames(ws_session *ws)
{
	srv_conn *c = ws->c;
	double ping_interval = ws->s->cfg.poll_timeout > 0 ? ws->s->cfg.poll_timeout : 10;
	double next_ping = srv_monotonic() + ping_interval;
	/* Frames the client sent right behind its handshake. */
	if (!feed(ws, (const uint8_t *)c->in + c->in_off, c->in_len - c->in_off))
		return;
	/* A smaller read buffer than HTTP's for the session's long life: an
	 * idle socket then holds a part of a page, not a page of its own.
	 * Bigger frames simply take more reads (the decoder is incremental). */
	uint8_t *buf = (uint8_t *)srv_conn_shrink_input(c, WS_READ_SIZE);
	if (buf == NULL)
		return;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
		                       { .fd = ws->s->stop_fd, .events = POLLIN } };
		double left = next_ping - srv_monotonic();
		if (ws->expires > 0) {
			double to_expiry = ws->expires - srv_auth_now();
			if (to_expiry <= 0) {
				ws_send_close(ws, WS_CLOSE_POLICY);   /* 1008: a new token, then resume */
				return;
			}
			if (to_expiry < left)
				left = to_expiry;
		}
		int ready = poll(p, 2, left > 0 ? (int)(left * 1000) + 1 : 0);
		if (ready < 0 && errno != EINTR)
			return;
		if (p[1].revents) {
			ws_send_close(ws, WS_CLOSE_GOING_AWAY);
			return;
		}
		if (ready == 0 && ws->expires > 0 && ws->expires <= srv_auth_now())
			continue;              /* the token's end, not a ping's: see above */
		if (ready == 0) {
			if (atomic_load(&ws->awaiting_pong))
				return;        /* no answer to our last ping: drop it */
			atomic_store(&ws->awaiting_pong, true);
			if (!ws_send_frame(ws, WS_OP_PING, "pushq", 5))
				return;
			next_ping = srv_monotonic() + ping_interval;
			continue;
		}
		ssize_t n = recv(c->fd, buf, WS_READ_SIZE, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;                /* gone without a close frame */
		next_ping = srv_monotonic() + ping_interval;
		if (!feed(ws, buf, (size_t)n))
			return;
	}
}

/* After our close frame: let the peer answer (and read its close) before
 * the socket closes, so our frame is not lost to a reset. */
static void
linger_for_close(ws_session *ws)
{
	outbox_lock(&ws->out);
	bool sent = ws->out.closed;
	outbox_unlock(&ws->out);
	if (!sent)
		return;
	shutdown(ws->c->fd, SHUT_WR);
	double deadline = srv_monotonic() + (atomic_load(&ws->s->stopping) ? 0.2 : CLOSE_LINGER);
	char sink[512];
	for (;;) {
		double left = deadline - srv_monotonic();
		struct pollfd p = { .fd = ws->c->fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			return;
		if (recv(ws->c->fd, sink, sizeof(sink), 0) <= 0)
			return;
	}
}

/* ------------------------------------------------------------------ */
/* Upgrade and the session's life                                      */
/* ------------------------------------------------------------------ */

void
ws_refuse(srv_conn *c, int status)
{
	const char *extra = status == 426 ? "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	                  : status == 405 ? "Allow: GET\r\n" : NULL;
	srv_respond_status(c, status, extra);
}

bool
ws_upgrade_check(srv_conn *c, const http_request *req, char accept[29])
{
	int status = ws_handshake_check(req, accept);
	if (status != 0)
		ws_refuse(c, status);
	return status == 0;
}

bool
ws_session_init(ws_session *ws, srv_conn *c, const ws_handler *h)
{
	*ws = (ws_session){ .c = c, .s = c->s, .handler = h };
	ws->decoder = ws_decoder_new(c->s->cfg.max_body);
	return ws->decoder != NULL;
}

void
ws_session_discard(ws_session *ws)
{
	ws_decoder_free(ws->decoder);
	ws->decoder = NULL;
}

void
ws_session_run(ws_session *ws, const char accept[29])
{
	srv_conn *c = ws->c;
	c->status = 101;
	http_buf_printf(&c->out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	/* The session reads frames, not requests: the HTTP parser and its head
	 * buffer are no longer needed (about 4 KiB an open socket holds). */
	if (srv_conn_take_over(c)) {
		outbox_init(&ws->out, ws->s, c->fd);
		if (ws->handler->on_start != NULL)
			ws->handler->on_start(ws);
		read_frames(ws);
		if (ws->handler->on_end != NULL)
			ws->handler->on_end(ws);
		linger_for_close(ws);
		outbox_free(&ws->out);
	}
	ws_session_discard(ws);
}
