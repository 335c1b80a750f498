/*
 * ws_session.c - one WebSocket connection, after the 101 answer.
 *
 * DESIGN (thread-per-connection, threads that block: see docs/design.md)
 *   reader  the connection's own thread.  It blocks in poll() on the socket
 *           (and the server's stop_fd), decodes frames, answers pings,
 *           broadcasts chat text like /send_msg, echoes on /ws/echo, and
 *           pings a peer that has been quiet for --poll-timeout seconds; a
 *           peer still quiet one interval later is dropped.
 *   writer  chat only: a second thread that blocks in the client's queue
 *           (srv_client_take, exactly like /get_msg) and sends each message
 *           as a text frame holding the /get_msg JSON.
 * Both write to one socket, so every frame is written whole under
 * `write_lock`: a pong can never land inside a message.  After a close
 * frame is sent nothing else is.
 *
 * Ending: the reader decides.  It sends its close frame, sets `done`, wakes
 * the writer (srv_client_wake) and joins it; the connection thread then
 * closes the socket.  A writer that cannot send shuts the socket down, which
 * ends the reader's poll at once.
 */
#include "http/ws.h"
#include "server/handlers.h"
#include "server/util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long the writer waits in one take before looking at `done`; a
 * safety net only: it is normally woken at once. */
#define WRITER_WAIT 60.0
/* How long to wait for the peer's close frame after ours. */
#define CLOSE_LINGER 1.0

typedef struct {
	srv_conn *c;
	srv *s;
	bool chat;
	srv_client *client;          /* chat only */
	ws_decoder *decoder;
	pthread_mutex_t write_lock;  /* one frame at a time on the socket */
	bool close_sent;             /* under write_lock */
	atomic_bool done;            /* the reader has finished */
	atomic_bool awaiting_pong;   /* we pinged; nothing heard since */
} ws_session;

/* ------------------------------------------------------------------ */
/* Writing frames                                                      */
/* ------------------------------------------------------------------ */

/* Sends one whole, encoded frame (and frees it).  A close frame is the
 * last one ever sent. */
static bool
send_encoded(ws_session *ws, http_buf *frame, bool is_close)
{
	pthread_mutex_lock(&ws->write_lock);
	bool ok = !ws->close_sent && !frame->failed &&
	          srv_send_all(ws->c->fd, frame->data, frame->len);
	if (is_close)
		ws->close_sent = true;
	pthread_mutex_unlock(&ws->write_lock);
	http_buf_free(frame);
	return ok;
}

static bool
send_frame(ws_session *ws, int opcode, const void *payload, size_t len)
{
	http_buf frame = { 0 };
	ws_frame_append(&frame, opcode, payload, len);
	return send_encoded(ws, &frame, opcode == WS_OP_CLOSE);
}

static void
send_close(ws_session *ws, int code)
{
	http_buf frame = { 0 };
	ws_close_frame_append(&frame, code);
	send_encoded(ws, &frame, true);
}

/* ------------------------------------------------------------------ */
/* The writer thread (chat)                                            */
/* ------------------------------------------------------------------ */

static void *
writer_main(void *arg)
{
	ws_session *ws = arg;
	srv_registry *reg = ws->s->registry;
	srv_block_stop_signals();
	http_buf json = { 0 };
	while (!atomic_load(&ws->done)) {
		srv_msg *m;
		long dropped;
		queue_rc rc = srv_client_take(reg, ws->client, WRITER_WAIT, &ws->done, &m, &dropped);
		if (rc == QUEUE_SHUTDOWN)
			break;                 /* the server stops; the reader says 1001 */
		if (rc != QUEUE_OK)
			continue;              /* called off or timed out: look at `done` */
		json.len = 0;
		srv_msg_append_json(&json, m, dropped);
		if (atomic_load(&ws->done) || json.failed ||
		    !send_frame(ws, WS_OP_TEXT, json.data, json.len)) {
			srv_client_give_back(reg, ws->client, m, dropped);  /* not lost */
			shutdown(ws->c->fd, SHUT_RDWR);    /* end the reader too */
			break;
		}
		srv_msg_release(m);
	}
	http_buf_free(&json);
	return NULL;
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
		if (!ws->chat)
			return send_frame(ws, ev->opcode, ev->data, ev->len);
		if (ev->opcode != WS_OP_TEXT) {
			send_close(ws, WS_CLOSE_UNSUPPORTED);   /* the chat is text */
			return false;
		}
		if (!srv_registry_broadcast(ws->s->registry, srv_client_name(ws->client),
		                            (const char *)ev->data, ev->len, NULL)) {
			send_close(ws, WS_CLOSE_INTERNAL_ERROR);
			return false;
		}
		return true;
	case WS_PING:
		return send_frame(ws, WS_OP_PONG, ev->data, ev->len);
	case WS_PONG:
		return true;
	case WS_CLOSE:
	case WS_FAIL:
		send_close(ws, ev->close_code);
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
	uint8_t *buf = (uint8_t *)c->in;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
		                       { .fd = ws->s->stop_fd, .events = POLLIN } };
		double left = next_ping - srv_monotonic();
		int ready = poll(p, 2, left > 0 ? (int)(left * 1000) + 1 : 0);
		if (ready < 0 && errno != EINTR)
			return;
		if (p[1].revents) {
			send_close(ws, WS_CLOSE_GOING_AWAY);
			return;
		}
		if (ready == 0) {
			if (atomic_load(&ws->awaiting_pong))
				return;        /* no answer to our last ping: drop it */
			atomic_store(&ws->awaiting_pong, true);
			if (!send_frame(ws, WS_OP_PING, "pushq", 5))
				return;
			next_ping = srv_monotonic() + ping_interval;
			continue;
		}
		ssize_t n = recv(c->fd, buf, SRV_READ_SIZE, 0);
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
	pthread_mutex_lock(&ws->write_lock);
	bool sent = ws->close_sent;
	pthread_mutex_unlock(&ws->write_lock);
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
/* Upgrade                                                             */
/* ------------------------------------------------------------------ */

/* The answer to a request that cannot be upgraded. */
static void
refuse_upgrade(srv_conn *c, int status)
{
	const char *extra = status == 426 ? "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	                  : status == 405 ? "Allow: GET\r\n" : NULL;
	srv_respond_status(c, status, extra);
}

static void
run_session(ws_session *ws)
{
	pthread_t writer;
	bool writer_started = !ws->chat ||
		pthread_create(&writer, &ws->s->thread_attr_joinable, writer_main, ws) == 0;
	if (!writer_started) {
		send_close(ws, WS_CLOSE_INTERNAL_ERROR);
	} else {
		read_frames(ws);
	}
	atomic_store(&ws->done, true);
	if (ws->chat && writer_started) {
		srv_client_wake(ws->client);   /* `done` is set: it stops */
		pthread_join(writer, NULL);
	}
	linger_for_close(ws);
}

static void
upgrade_and_serve(srv_conn *c, const http_request *req, const char *chat_name)
{
	bool chat = chat_name != NULL;
	char accept[29];
	int status = ws_handshake_check(req, accept);
	if (status != 0) {
		refuse_upgrade(c, status);
		return;
	}
	ws_session ws = { .c = c, .s = c->s, .chat = chat };
	ws.decoder = ws_decoder_new(c->s->cfg.max_body);
	srv_join_rc why = SRV_JOIN_OK;
	if (chat)
		ws.client = srv_registry_join(c->s->registry, chat_name, SRV_CLIENT_WS, &why);
	if (ws.decoder == NULL || (chat && ws.client == NULL)) {
		refuse_upgrade(c, why == SRV_JOIN_BAD_NAME ? 400 : 503);
		ws_decoder_free(ws.decoder);
		srv_client_release(c->s->registry, ws.client);
		return;
	}
	http_buf_printf(&c->out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	c->taken_over = true;
	if (srv_flush(c)) {
		pthread_mutex_init(&ws.write_lock, NULL);
		run_session(&ws);
		pthread_mutex_destroy(&ws.write_lock);
	}
	ws_decoder_free(ws.decoder);
	srv_client_release(c->s->registry, ws.client);
}

void
srv_ws_serve(srv_conn *c, const http_request *req, const char *chat_name)
{
	upgrade_and_serve(c, req, chat_name);
	/* libcrypto's per-thread state (for the SHA-1 above) goes now, not at
	 * thread exit, so a server that stops as soon as the last connection is
	 * counted out leaks nothing. */
	ws_thread_cleanup();
}
