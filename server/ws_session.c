/*
 * ws_session.c - one WebSocket connection, after the 101 answer.
 *
 * DESIGN (thread-per-connection, threads that block: see docs/design.md)
 *   reader  the connection's own thread.  It blocks in poll() on the socket
 *           (and the server's stop_fd), decodes frames, answers pings,
 *           broadcasts chat text like /send_msg, echoes on /ws/echo, and
 *           pings a peer that has been quiet for --poll-timeout seconds; a
 *           peer still quiet one interval later is dropped.
 *   sender  chat messages are written by the thread that broadcast them.
 *           The message goes into the client's bounded queue exactly like
 *           a long poll's; then the broadcast calls our pusher
 *           (registry.h), which, if nobody is writing on this socket,
 *           takes from the queue and writes each message as a text frame
 *           with a non-blocking send.  No thread is woken for a delivery
 *           (measured at N=1,000: 14.5 -> 3.75 us of server CPU each).
 *   writer  only when the socket's send buffer is full (the peer reads
 *           slower than we send) does a second thread take over: the
 *           message that did not fit goes back into the queue (or, if part
 *           of its frame left, the rest waits in `unsent`), the session is
 *           `backlogged`, and the writer thread waits until the socket is
 *           writable and drains the queue.  Meanwhile broadcasts only put:
 *           the queue fills, and past its bound drops are counted, so a
 *           slow reader never holds up the sender or anyone else.
 *           The writer is started on the first back-pressure, not with the
 *           session: most clients never need it, and a thread costs about
 *           8 KiB of memory per client (measured: 28.1 -> 20.0 KiB per idle
 *           client at N=10,000) for nothing.
 * All writes to the socket happen under `write_lock`, a frame at a time, so
 * a pong can never land inside a message and frames keep the queue's
 * order.  A broadcast only *tries* the lock: if somebody holds it, it sets
 * `drain_wanted`, and whoever holds the lock drains again as they let go
 * (write_unlock), so no message is left in the queue unwritten.
 *
 * Ending: the reader decides.  It sends its close frame, sets `done`,
 * detaches the pusher (no broadcast writes after that), wakes the writer
 * (if there is one) and joins it; the connection thread then closes the
 * socket.  A send that fails shuts the
 * socket down, which ends the reader's poll at once.  After a close frame
 * is sent nothing else is: messages still queued stay for a reconnect.
 */
#include "http/ws.h"
#include "server/bridge.h"
#include "server/handlers.h"
#include "server/util.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* How long to wait for the peer's close frame after ours. */
#define CLOSE_LINGER 1.0
/* Bytes read at a time during a session (HTTP reads SRV_READ_SIZE). */
#define WS_READ_SIZE 2048

typedef struct {
	srv_conn *c;
	srv *s;
	bool chat;
	srv_client *client;          /* chat only */
	srv_pusher pusher;           /* chat only: how broadcasts reach us */
	ws_decoder *decoder;

	pthread_mutex_t write_lock;  /* the socket's sending side */
	/* Under write_lock: */
	bool close_sent;             /* nothing more may be sent */
	bool broken;                 /* a send failed; the reader will end */
	bool backlogged;             /* the writer thread drains the queue */
	http_buf unsent;             /* the rest of a frame partly written */
	bool writer_started;
	pthread_t writer;
	int writer_wake;             /* eventfd that wakes the writer thread */

	atomic_bool drain_wanted;    /* a message was put; write it */
	atomic_bool done;            /* the reader has finished */
	atomic_bool awaiting_pong;   /* we pinged; nothing heard since */
} ws_session;

static void drain_when_free(ws_session *ws);

/* ------------------------------------------------------------------ */
/* The socket's lock                                                   */
/* ------------------------------------------------------------------ */

static void
write_lock(ws_session *ws)
{
	pthread_mutex_lock(&ws->write_lock);
}

/* Lets the socket go, then writes what was put while we held it. */
static void
write_unlock(ws_session *ws)
{
	pthread_mutex_unlock(&ws->write_lock);
	drain_when_free(ws);
}

/* The send failed for good: the reader's poll ends at once. */
static void
mark_broken(ws_session *ws)
{
	ws->broken = true;
	shutdown(ws->c->fd, SHUT_RDWR);
}

/* ------------------------------------------------------------------ */
/* Frames the reader sends (pong, ping, close, echo): these may wait   */
/* ------------------------------------------------------------------ */

/* Sends one whole, encoded frame (and frees it), after the rest of a
 * message frame if one was partly written.  A close frame is the last one
 * ever sent.  When the server stops, nothing waits for a peer that reads
 * nothing (srv_send_all). */
static bool
send_encoded(ws_session *ws, http_buf *frame, bool is_close)
{
	write_lock(ws);
	bool ok = !ws->close_sent && !ws->broken && !frame->failed;
	if (ok && ws->unsent.len > 0) {
		ok = srv_send_all(ws->s, ws->c->fd, ws->unsent.data, ws->unsent.len);
		ws->unsent.len = 0;
	}
	if (ok)
		ok = srv_send_all(ws->s, ws->c->fd, frame->data, frame->len);
	if (is_close)
		ws->close_sent = true;
	else if (!ok && !ws->close_sent)
		mark_broken(ws);
	write_unlock(ws);
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
/* Chat messages: written without waiting, by whoever has the lock     */
/* ------------------------------------------------------------------ */

typedef enum { SENT, WOULD_BLOCK, FAILED } send_result;

static send_result
send_nowait(int fd, const struct iovec *iov, int iovcnt, size_t total, size_t *written)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n;
	do
		n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	*written = n > 0 ? (size_t)n : 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? WOULD_BLOCK : FAILED;
	return (size_t)n == total ? SENT : WOULD_BLOCK;
}

/* Writes the rest of a partly written frame.  True when it is all gone. */
static bool
send_unsent(ws_session *ws)
{
	struct iovec iov = { ws->unsent.data, ws->unsent.len };
	size_t written;
	send_result r = send_nowait(ws->c->fd, &iov, 1, ws->unsent.len, &written);
	if (r == FAILED) {
		mark_broken(ws);
		return false;
	}
	memmove(ws->unsent.data, ws->unsent.data + written, ws->unsent.len - written);
	ws->unsent.len -= written;
	return ws->unsent.len == 0;
}

/* Keeps the bytes of a frame that did not leave, from `written` on. */
static void
keep_unsent(ws_session *ws, const struct iovec *iov, int iovcnt, size_t written)
{
	for (int i = 0; i < iovcnt; i++) {
		size_t skip = written < iov[i].iov_len ? written : iov[i].iov_len;
		written -= skip;
		http_buf_append(&ws->unsent, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
	}
	if (ws->unsent.failed)
		mark_broken(ws);     /* out of memory mid-frame: the stream is torn */
}

/*
 * Writes message m as one text frame holding the /get_msg JSON, straight
 * from the shared message (header, JSON, and the per-client tail: no copy).
 * Takes over the caller's reference.  Returns what happened; a message that
 * did not leave at all goes back into the queue.
 */
static send_result
send_message(ws_session *ws, srv_msg *m, srv_gap gap)
{
	char tail[SRV_GAP_TAIL_MAX];
	size_t tail_len = srv_gap_tail(tail, &gap);
	uint8_t head[WS_FRAME_HEADER_MAX];
	size_t payload = m->json_len + tail_len;
	size_t head_len = ws_frame_header(head, WS_OP_TEXT, payload);
	struct iovec iov[3] = { { head, head_len }, { m->json, m->json_len }, { tail, tail_len } };
	size_t written;
	send_result r = send_nowait(ws->c->fd, iov, 3, head_len + payload, &written);
	if (r == SENT) {
		srv_msg_release(m);
	} else if (written > 0) {
		keep_unsent(ws, iov, 3, written);    /* delivered: part is on its way */
		srv_msg_release(m);
	} else {
		srv_client_give_back(ws->s->registry, ws->client, m, gap);  /* not lost */
		if (r == FAILED)
			mark_broken(ws);
	}
	return r;
}

static void *writer_main(void *arg);

static void
wake_writer(ws_session *ws)
{
	uint64_t one = 1;
	if (write(ws->writer_wake, &one, sizeof(one)) < 0) {
		/* EAGAIN: it is readable already, which is all we want */
	}
}

/* The socket is full: the writer thread takes over (started now, the first
 * time).  Caller holds write_lock. */
static void
hand_to_writer(ws_session *ws)
{
	ws->backlogged = true;
	if (!ws->writer_started) {
		ws->writer_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ws->writer_wake < 0) {
			mark_broken(ws);
			return;
		}
		if (pthread_create(&ws->writer, &ws->s->thread_attr_joinable, writer_main, ws) != 0) {
			close(ws->writer_wake);
			mark_broken(ws);     /* no thread: end the session, keep the queue */
			return;
		}
		ws->writer_started = true;
	}
	if (!pthread_equal(pthread_self(), ws->writer))
		wake_writer(ws);
}

/*
 * Writes the client's queued messages until the queue is empty or the
 * socket is full (then the writer thread takes over).  Caller holds
 * write_lock.
 */
static void
drain_locked(ws_session *ws)
{
	if (ws->close_sent || ws->broken)
		return;
	if (ws->unsent.len > 0 && !send_unsent(ws)) {
		if (!ws->broken)
			hand_to_writer(ws);
		return;
	}
	for (;;) {
		srv_msg *m;
		srv_gap gap;
		if (srv_client_take(ws->s->registry, ws->client, 0, NULL, &m, &gap) != QUEUE_OK) {
			ws->backlogged = false;     /* all written */
			return;
		}
		send_result r = send_message(ws, m, gap);
		if (r == WOULD_BLOCK)
			hand_to_writer(ws);
		if (r != SENT)
			return;
	}
}

/* Drains now if nobody is writing; if somebody is, they see drain_wanted
 * when they let the lock go.  A backlogged socket is the writer's. */
static void
drain_when_free(ws_session *ws)
{
	while (atomic_load(&ws->drain_wanted) && pthread_mutex_trylock(&ws->write_lock) == 0) {
		atomic_store(&ws->drain_wanted, false);
		if (!ws->backlogged)
			drain_locked(ws);
		pthread_mutex_unlock(&ws->write_lock);
	}
}

/* The pusher: called by a broadcast that put a message into our queue. */
static void
pushed(void *session)
{
	ws_session *ws = session;
	atomic_store(&ws->drain_wanted, true);
	drain_when_free(ws);
}

/* ------------------------------------------------------------------ */
/* The writer thread: only for a socket that filled up                 */
/* ------------------------------------------------------------------ */

/* Waits until the socket can take more (or we are woken, or stop).
 * Returns false when the writer should end. */
static bool
wait_writable(ws_session *ws, bool backlogged)
{
	struct pollfd p[3] = { { .fd = ws->writer_wake, .events = POLLIN },
	                       { .fd = ws->s->stop_fd, .events = POLLIN },
	                       { .fd = backlogged ? ws->c->fd : -1, .events = POLLOUT } };
	while (poll(p, 3, -1) < 0)
		if (errno != EINTR)
			return false;
	if (p[0].revents & POLLIN) {
		uint64_t count;
		if (read(ws->writer_wake, &count, sizeof(count)) < 0) {
			/* EAGAIN: someone else emptied it */
		}
	}
	return !(p[1].revents & POLLIN) && !atomic_load(&ws->done);
}

static void *
writer_main(void *arg)
{
	ws_session *ws = arg;
	srv_block_stop_signals();
	for (;;) {
		write_lock(ws);
		bool backlogged = ws->backlogged;
		bool over = ws->close_sent || ws->broken;
		write_unlock(ws);
		if (over || !wait_writable(ws, backlogged))
			break;
		write_lock(ws);
		if (ws->backlogged)
			drain_locked(ws);    /* may clear `backlogged`: idle again */
		write_unlock(ws);
	}
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
		switch (srv_send_message(ws->s, srv_client_name(ws->client), (const char *)ev->data,
		                         ev->len, NULL)) {
		case SRV_SENT:
			return true;
		case SRV_SEND_UNAVAILABLE: {   /* say so; the session goes on */
			static const char why[] = "{\"status\":false,\"error\":\"redis unavailable\"}";
			return send_frame(ws, WS_OP_TEXT, why, sizeof(why) - 1);
		}
		default:
			send_close(ws, WS_CLOSE_INTERNAL_ERROR);
			return false;
		}
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
	/* A smaller read buffer than HTTP's for the session's long life: an
	 * idle socket then holds a part of a page, not a page of its own.
	 * Bigger frames simply take more reads (the decoder is incremental). */
	uint8_t *buf = malloc(WS_READ_SIZE);
	if (buf == NULL)
		return;
	free(c->in);               /* its touched page goes to the next connection */
	c->in = (char *)buf;
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
	if (ws->chat) {
		ws->pusher = (srv_pusher){ .push = pushed, .ctx = ws };
		srv_client_attach_pusher(ws->client, &ws->pusher);
		pushed(ws);          /* what was queued before we came */
	}
	read_frames(ws);
	atomic_store(&ws->done, true);
	if (ws->chat)
		srv_client_detach_pusher(ws->client, &ws->pusher);  /* no more pushes */
	write_lock(ws);
	bool writer_started = ws->writer_started;
	if (writer_started)
		wake_writer(ws);      /* it sees `done` and ends */
	pthread_mutex_unlock(&ws->write_lock);
	if (writer_started) {
		pthread_join(ws->writer, NULL);
		close(ws->writer_wake);
	}
	http_buf_free(&ws->unsent);
	linger_for_close(ws);
}

static void
upgrade_and_serve(srv_conn *c, const http_request *req, const char *chat_name,
                  const uint64_t *since)
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
	if (ws.client != NULL && since != NULL)
		srv_client_resume(c->s->registry, ws.client, *since);   /* before any frame */
	if (ws.decoder == NULL || (chat && ws.client == NULL)) {
		refuse_upgrade(c, why == SRV_JOIN_BAD_NAME ? 400 : 503);
		ws_decoder_free(ws.decoder);
		srv_client_release(c->s->registry, ws.client);
		return;
	}
	http_buf_printf(&c->out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	c->taken_over = true;
	/* The session reads frames, not requests: the HTTP parser and its head
	 * buffer are no longer needed (about 4 KiB an open socket holds). */
	http_parser_free(c->parser);
	c->parser = NULL;
	if (srv_flush(c)) {
		pthread_mutex_init(&ws.write_lock, NULL);
		run_session(&ws);
		pthread_mutex_destroy(&ws.write_lock);
	}
	ws_decoder_free(ws.decoder);
	srv_client_release(c->s->registry, ws.client);
}

void
srv_ws_serve(srv_conn *c, const http_request *req, const char *chat_name,
             const uint64_t *since)
{
	upgrade_and_serve(c, req, chat_name, since);
	/* libcrypto's per-thread state (for the SHA-1 above) goes now, not at
	 * thread exit, so a server that stops as soon as the last connection is
	 * counted out leaks nothing. */
	ws_thread_cleanup();
}
