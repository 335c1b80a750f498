/*
 * ws_chat.c - GET /ws?name=N: the chat over a WebSocket (websocket.h).
 * The reader, control frames and closing are every session's
 * (ws_session.c); this file is how chat messages travel both ways.
 *
 * DESIGN
 *   in      a text frame from the peer is sent like POST /send_msg, from
 *           this client's name (send.h): {"msg":..,"channel":..} or
 *           {"msg":..,"to":..} there, anything else to its first channel.
 *   out     chat messages are written by the thread that broadcast them.
 *           The message goes into the client's bounded queue exactly like
 *           a long poll's; then the broadcast calls our pusher
 *           (broadcast.h), which, if nobody is writing on this socket,
 *           asks the room for the client's next frame (srv_client_next)
 *           and writes it with a non-blocking sendmsg.  No thread is woken
 *           for a delivery (measured at N=1,000: 14.5 -> 3.75 us of server
 *           CPU each).
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
 * A broadcast only *tries* the write lock: if somebody holds it, it sets
 * `drain_wanted`, and whoever holds the lock drains again as they let go
 * (ws_write_unlock runs drain_when_free), so no message is left in the
 * queue unwritten.
 *
 * Ending (on_end): `done` is set, the pusher detached (no broadcast writes
 * after that), the writer woken and joined.  Messages still queued stay
 * for a reconnect.
 */
#include "server/push/websocket.h"
#include "server/push/ws_session.h"
#include "server/core/answer.h"
#include "server/core/params.h"
#include "server/core/reader.h"
#include "server/room/broadcast.h"
#include "server/room/channel.h"
#include "server/room/delivery.h"
#include "server/room/resume.h"
#include "server/room/send.h"
#include "server/common/thread.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* A chat session begins with its ws_session, so a pointer to one is a
 * pointer to the other. */
typedef struct {
	ws_session ws;
	srv_client *client;
	srv_who who;                 /* its credentials: what it may publish to */
	srv_pusher pusher;           /* how broadcasts reach us */
	/* Under ws.write_lock: */
	bool backlogged;             /* the writer thread drains the queue */
	bool writer_started;
	pthread_t writer;
	int writer_wake;             /* eventfd that wakes the writer thread */

	atomic_bool drain_wanted;    /* a message was put; write it */
	atomic_bool done;            /* the reader has finished */
} ws_chat;

/*
 * Writes the client's next message as one text frame, straight from the
 * shared message (header, JSON, the per-client tail: no copy).  A frame
 * that did not leave at all goes back into the queue.
 */
static ws_send_result
send_next(ws_chat *chat, srv_delivery *d)
{
	size_t written;
	ws_send_result r = ws_send_nowait(&chat->ws, d->parts, 3, d->len, &written);
	if (r == WS_SENT) {
		srv_delivery_done(d);
	} else if (written > 0) {
		ws_keep_unsent(&chat->ws, d->parts, 3, written);  /* part is on its way */
		srv_delivery_done(d);
	} else {
		srv_client_give_back_delivery(chat->ws.s->registry, chat->client, d);  /* not lost */
		if (r == WS_SEND_FAILED)
			ws_mark_broken(&chat->ws);
	}
	return r;
}

static void *writer_main(void *arg);

static void
wake_writer(ws_chat *chat)
{
	uint64_t one = 1;
	if (write(chat->writer_wake, &one, sizeof(one)) < 0) {
		/* EAGAIN: it is readable already, which is all we want */
	}
}

/* The socket is full: the writer thread takes over (started now, the first
 * time).  Caller holds the write lock. */
static void
hand_to_writer(ws_chat *chat)
{
	chat->backlogged = true;
	if (!chat->writer_started) {
		chat->writer_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (chat->writer_wake < 0) {
			ws_mark_broken(&chat->ws);
			return;
		}
		if (pthread_create(&chat->writer, &chat->ws.s->thread_attr_joinable, writer_main,
		                   chat) != 0) {
			close(chat->writer_wake);
			ws_mark_broken(&chat->ws);   /* no thread: end the session, keep the queue */
			return;
		}
		chat->writer_started = true;
		atomic_fetch_add(&chat->ws.s->ws_writers_started, 1);
	}
	if (!pthread_equal(pthread_self(), chat->writer))
		wake_writer(chat);
}

/*
 * Writes the client's queued messages until the queue is empty or the
 * socket is full (then the writer thread takes over).  Caller holds the
 * write lock.
 */
static void
drain_locked(ws_chat *chat)
{
	ws_session *ws = &chat->ws;
	if (ws->close_sent || ws->broken)
		return;
	if (ws->unsent.len > 0 && !ws_send_unsent(ws)) {
		if (!ws->broken)
			hand_to_writer(chat);
		return;
	}
	for (;;) {
		srv_delivery d;
		if (srv_client_next(ws->s->registry, chat->client, 0, NULL, SRV_WIRE_WS, &d) != QUEUE_OK) {
			chat->backlogged = false;     /* all written */
			return;
		}
		ws_send_result r = send_next(chat, &d);
		if (r == WS_WOULD_BLOCK)
			hand_to_writer(chat);
		if (r != WS_SENT)
			return;
	}
}

/* Drains now if nobody is writing; if somebody is, they see drain_wanted
 * when they let the lock go.  A backlogged socket is the writer's. */
static void
drain_when_free(ws_session *ws)
{
	ws_chat *chat = (ws_chat *)ws;
	while (atomic_load(&chat->drain_wanted) && pthread_mutex_trylock(&ws->write_lock) == 0) {
		atomic_store(&chat->drain_wanted, false);
		if (!chat->backlogged)
			drain_locked(chat);
		ws_write_unlock_quiet(ws);
	}
}

/* The pusher: called by a broadcast that put a message into our queue. */
static void
pushed(void *session)
{
	ws_chat *chat = session;
	atomic_store(&chat->drain_wanted, true);
	drain_when_free(&chat->ws);
}

/* ------------------------------------------------------------------ */
/* The writer thread: only for a socket that filled up                 */
/* ------------------------------------------------------------------ */

/* Waits until the socket can take more (or we are woken, or stop).
 * Returns false when the writer should end. */
static bool
wait_writable(ws_chat *chat, bool backlogged)
{
	struct pollfd p[3] = { { .fd = chat->writer_wake, .events = POLLIN },
	                       { .fd = chat->ws.s->stop_fd, .events = POLLIN },
	                       { .fd = backlogged ? chat->ws.c->fd : -1, .events = POLLOUT } };
	while (poll(p, 3, -1) < 0)
		if (errno != EINTR)
			return false;
	if (p[0].revents & POLLIN) {
		uint64_t count;
		if (read(chat->writer_wake, &count, sizeof(count)) < 0) {
			/* EAGAIN: someone else emptied it */
		}
	}
	return !(p[1].revents & POLLIN) && !atomic_load(&chat->done);
}

static void *
writer_main(void *arg)
{
	ws_chat *chat = arg;
	srv_block_stop_signals();
	for (;;) {
		ws_write_lock(&chat->ws);
		bool backlogged = chat->backlogged;
		bool over = chat->ws.close_sent || chat->ws.broken;
		ws_write_unlock(&chat->ws);
		if (over || !wait_writable(chat, backlogged))
			break;
		ws_write_lock(&chat->ws);
		if (chat->backlogged)
			drain_locked(chat);    /* may clear `backlogged`: idle again */
		ws_write_unlock(&chat->ws);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The session's hooks                                                 */
/* ------------------------------------------------------------------ */

/* Sends an error frame {"status":false,"error":TEXT}; the session goes on. */
static bool
send_error(ws_session *ws, const char *error)
{
	http_buf frame = { 0 };
	http_buf_puts(&frame, "{\"status\":false,\"error\":");
	http_buf_json_string(&frame, error, strlen(error));
	http_buf_puts(&frame, "}");
	bool ok = !frame.failed && ws_send_frame(ws, WS_OP_TEXT, frame.data, frame.len);
	http_buf_free(&frame);
	return ok;
}

/* Publishes text to `to` from this client; false when the session ends. */
static bool
publish(ws_chat *chat, const srv_target *to, const char *text, size_t len)
{
	ws_session *ws = &chat->ws;
	int status;
	const char *refusal = srv_auth_publish_refusal(&chat->who, to, &status);
	if (refusal != NULL)
		return send_error(ws, refusal);     /* tokens: not in its "pub" */
	switch (srv_send_message(ws->s->registry, ws->s->bridge, to, srv_client_name(chat->client),
	                         text, len, NULL, NULL)) {
	case SRV_SENT:
		return true;
	case SRV_SEND_UNKNOWN:
		return send_error(ws, "unknown client");
	case SRV_SEND_UNAVAILABLE:
		return send_error(ws, "redis unavailable");
	default:
		ws_send_close(ws, WS_CLOSE_INTERNAL_ERROR);
		return false;
	}
}

/*
 * A text frame that is a JSON object with a string "msg" and a string
 * "channel" or "to" is published there (parsed by jansson); any other text
 * is published as it is to the client's first channel.  Returns 1 when
 * the frame was such an object (*to and the message set: *msg_out is
 * owned by *json_out), 0 when it is plain text, -1 after an error frame
 * (*ok: whether the session goes on).
 */
static int
read_addressed(ws_session *ws, const ws_event *ev, json_t **json_out, srv_target *to,
               const char **msg_out, size_t *len_out, bool *ok)
{
	json_t *json = json_loadb((const char *)ev->data, ev->len, 0, NULL);
	json_t *msg = json_object_get(json, "msg");
	json_t *channel = json_object_get(json, "channel"), *name = json_object_get(json, "to");
	if (!json_is_string(msg) || (!json_is_string(channel) && !json_is_string(name))) {
		json_decref(json);
		return 0;
	}
	const char *error = NULL;
	if (channel != NULL && name != NULL)
		error = "channel or to, not both";
	else if (channel != NULL && !srv_channel_name_valid(json_string_value(channel),
	                                                    json_string_length(channel)))
		error = SRV_BAD_CHANNEL;
	else if (name != NULL && (json_string_length(name) == 0 ||
	                          json_string_length(name) > SRV_NAME_MAX ||
	                          strlen(json_string_value(name)) != json_string_length(name)))
		error = "bad name in to";
	if (error != NULL) {
		json_decref(json);
		*ok = send_error(ws, error);
		return -1;
	}
	*to = name != NULL ? (srv_target){ true, json_string_value(name) }
	                   : (srv_target){ false, json_string_value(channel) };
	*msg_out = json_string_value(msg);
	*len_out = json_string_length(msg);
	*json_out = json;
	return 1;
}

/* A message from the peer: the chat is text, sent like /send_msg. */
static bool
chat_message(ws_session *ws, const ws_event *ev)
{
	ws_chat *chat = (ws_chat *)ws;
	if (ev->opcode != WS_OP_TEXT) {
		ws_send_close(ws, WS_CLOSE_UNSUPPORTED);
		return false;
	}
	json_t *json = NULL;
	srv_target to;
	const char *text;
	size_t len;
	bool ok = true;
	int addressed = read_addressed(ws, ev, &json, &to, &text, &len, &ok);
	if (addressed > 0) {
		ok = publish(chat, &to, text, len);
	} else if (addressed == 0) {
		char first[SRV_CHANNEL_MAX + 1];
		if (srv_client_first_channel(ws->s->registry, chat->client, first)) {
			to = (srv_target){ false, first };
			ok = publish(chat, &to, (const char *)ev->data, ev->len);
		} else {
			ok = send_error(ws, "no channel to send to: subscribe to one, or send to a name");
		}
	}
	json_decref(json);
	return ok;
}

static void
chat_start(ws_session *ws)
{
	ws_chat *chat = (ws_chat *)ws;
	chat->pusher = (srv_pusher){ .push = pushed, .ctx = chat };
	srv_client_attach_pusher(chat->client, &chat->pusher);
	srv_presence_begin(&ws->s->presence, chat->client, SRV_CLIENT_WS);
	pushed(chat);          /* what was queued before we came */
}

static void
chat_end(ws_session *ws)
{
	ws_chat *chat = (ws_chat *)ws;
	atomic_store(&chat->done, true);
	srv_client_detach_pusher(chat->client, &chat->pusher);  /* no more pushes */
	srv_presence_end(&ws->s->presence, chat->client, SRV_CLIENT_WS);
	ws_write_lock(ws);
	bool writer_started = chat->writer_started;
	if (writer_started)
		wake_writer(chat);      /* it sees `done` and ends */
	ws_write_unlock_quiet(ws);  /* ending: nothing more to drain */
	if (writer_started) {
		pthread_join(chat->writer, NULL);
		close(chat->writer_wake);
	}
}

static const ws_handler chat_handler = {
	.on_message = chat_message,
	.on_start = chat_start,
	.on_end = chat_end,
	.after_unlock = drain_when_free,
};

/* ------------------------------------------------------------------ */
/* The view                                                            */
/* ------------------------------------------------------------------ */

static void
serve_chat(srv_conn *c, const http_request *req, const char *name, const uint64_t *since)
{
	char accept[29];
	if (!ws_upgrade_check(c, req, accept))
		return;
	ws_chat chat = { 0 };
	srv_registry *r = c->s->registry;
	if (!ws_session_init(&chat.ws, c, &chat_handler)) {
		ws_refuse(c, 503);
		return;
	}
	/* Refused before the 101 (channels, tokens): a plain HTTP answer. */
	if ((chat.client = srv_reader_join(c, req, name, SRV_CLIENT_WS, &chat.who)) == NULL) {
		ws_session_discard(&chat.ws);
		return;
	}
	chat.ws.expires = srv_auth_expires(&chat.who);
	if (since != NULL)
		srv_client_resume(r, chat.client, *since);   /* before any frame */
	ws_session_run(&chat.ws, accept);
	srv_client_release(r, chat.client);
}

void
srv_view_ws_chat(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	uint64_t since;
	int has_since = srv_query_since(req, &since);
	if (srv_query_name(req, name) <= 0)
		srv_answer_text(c, 400, "the chat needs ?name= (at most 64 bytes, valid %-escapes)\n");
	else if (has_since < 0)
		srv_answer_text(c, 400, "?since= must be a message id (decimal digits)\n");
	else
		serve_chat(c, req, name, has_since > 0 ? &since : NULL);
}
