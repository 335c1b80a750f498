/*
 * ws_chat.c - GET /ws?name=N: the chat over a WebSocket (websocket.h).
 * The reader, control frames and closing are every session's
 * (ws_session.c); this file is how chat messages travel both ways.
 *
 * DESIGN
 *   in      a text frame from the peer is sent like POST /send_msg, from
 *           this client's name (send.h): {"msg":..,"channel":..} or
 *           {"msg":..,"to":..} there, anything else to its first channel.
 *   out     chat messages are written by the thread that broadcast them,
 *           straight into the socket when it takes them without waiting;
 *           only a socket that fills up gets a writer thread of its own.
 *           That is the session's outbox (outbox.h), which SSE shares: the
 *           chat attaches it to its client as WebSocket frames (measured at
 *           N=1,000: 14.5 -> 3.75 us of server CPU a delivery; the writer
 *           started only on back-pressure: 28.1 -> 20.0 KiB per idle client
 *           at N=10,000).
 *
 * Ending (on_end): the outbox is detached (no broadcast writes after that,
 * the writer thread has ended).  Messages still queued stay for a
 * reconnect.
 */
#include "server/push/websocket.h"
#include "server/push/ws_session.h"
#include "server/core/answer.h"
#include "server/core/params.h"
#include "server/core/reader.h"
#include "server/room/channel.h"
#include "server/room/resume.h"
#include "server/room/send.h"

#include <jansson.h>
#include <string.h>

/* A chat session begins with its ws_session, so a pointer to one is a
 * pointer to the other. */
typedef struct {
	ws_session ws;
	srv_client *client;
	srv_who who;                 /* its credentials: what it may publish to */
} ws_chat;

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
	outbox_attach(&ws->out, chat->client, SRV_WIRE_WS, SRV_CLIENT_WS,
	              &ws->s->ws_writers_started);
	srv_presence_begin(&ws->s->presence, chat->client, SRV_CLIENT_WS);
}

static void
chat_end(ws_session *ws)
{
	ws_chat *chat = (ws_chat *)ws;
	outbox_detach(&ws->out);          /* no more pushes; the writer has ended */
	srv_presence_end(&ws->s->presence, chat->client, SRV_CLIENT_WS);
}

static const ws_handler chat_handler = {
	.on_message = chat_message,
	.on_start = chat_start,
	.on_end = chat_end,
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
