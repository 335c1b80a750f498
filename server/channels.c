/*
 * channels.c - the channel views (see channels.h; the contract is in
 * docs/api.md, "Channels").  The membership itself is the room's
 * (room/channel.h); these read the request and say what became of it.
 */
#include "server/channels.h"
#include "server/core/answer.h"
#include "server/core/auth.h"
#include "server/core/params.h"
#include "server/room/channel.h"
#include "server/room/presence.h"

#include <stdlib.h>
#include <string.h>

/* {"status":true,"channels":[...]}: c's list now. */
static void
answer_channels(srv_conn *c, srv_client *client)
{
	srv_channel_list list;
	srv_client_channels(c->s->registry, client, &list);
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":true,\"channels\":[");
	for (size_t i = 0; i < list.n; i++) {
		if (i > 0)
			http_buf_puts(&json, ",");
		http_buf_json_string(&json, list.names[i], strlen(list.names[i]));
	}
	http_buf_puts(&json, "]}");
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

/* POST /subscribe or /unsubscribe, form name=N&channel=C. */
static void
change_channel(srv_conn *c, const http_request *req, bool subscribe)
{
	char name[SRV_NAME_MAX + 1], channel[SRV_CHANNEL_MAX + 1];
	int has_name = srv_form_name(req->body, req->body_len, name);
	int has_channel = srv_form_channel(req->body, req->body_len, "channel", channel);
	if (has_name <= 0) {
		srv_answer_error(c, 400, "missing or bad name");
		return;
	}
	if (has_channel <= 0) {
		srv_answer_error(c, 400, SRV_BAD_CHANNEL);
		return;
	}
	srv_who who;
	srv_channel_list unused;
	bool no_fallback;
	if (!srv_auth_reader(c, req, name, NULL, &unused, &no_fallback, &who) ||
	    (subscribe && !srv_auth_channel(c, &who, channel)))
		return;
	srv_registry *r = c->s->registry;
	srv_client *client = srv_registry_find(r, name);
	if (client == NULL) {
		srv_answer_error(c, 404, "unknown client");
		return;
	}
	srv_sub_rc rc = subscribe ? srv_client_subscribe(r, client, channel)
	                          : srv_client_unsubscribe(r, client, channel);
	if (rc == SRV_SUB_OK)
		answer_channels(c, client);
	else
		srv_answer_sub_failed(c, rc);
	srv_client_release(r, client);
}

/* POST /leave, form name=N: {"status":true,"left":"now"} when nobody holds
 * the client, "left":"after its connections" while a stream or a socket
 * still does (the reaper forgets it once they end). */
void
srv_view_leave(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	if (srv_form_name(req->body, req->body_len, name) <= 0) {
		srv_answer_error(c, 400, "missing or bad name");
		return;
	}
	srv_who who;
	srv_channel_list unused;
	bool no_fallback;
	if (!srv_auth_reader(c, req, name, NULL, &unused, &no_fallback, &who))
		return;
	srv_leave_rc rc = srv_registry_leave(c->s->registry, name);
	if (rc == SRV_LEAVE_UNKNOWN) {
		srv_answer_error(c, 404, "unknown client");
		return;
	}
	http_buf json = { 0 };
	http_buf_puts(&json, rc == SRV_LEFT ? "{\"status\":true,\"left\":\"now\"}"
	                                    : "{\"status\":true,\"left\":\"after its connections\"}");
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

void
srv_view_subscribe(srv_conn *c, const http_request *req)
{
	change_channel(c, req, true);
}

void
srv_view_unsubscribe(srv_conn *c, const http_request *req)
{
	change_channel(c, req, false);
}

#define PRESENCE_LISTED_MAX 1000

static const char *
kind_name(srv_client_kind kind)
{
	return kind == SRV_CLIENT_WS ? "ws" : kind == SRV_CLIENT_SSE ? "sse" : "poll";
}

/* GET /presence?channel=C: {"channel","count","clients":[{"name","kind",
 * "since"}...]} and "truncated":true past PRESENCE_LISTED_MAX. */
void
srv_view_presence(srv_conn *c, const http_request *req)
{
	char channel[SRV_CHANNEL_MAX + 1];
	if (srv_form_channel(req->query, strlen(req->query), "channel", channel) <= 0) {
		srv_answer_error(c, 400, SRV_BAD_CHANNEL);
		return;
	}
	srv_who who;
	if (!srv_auth_identify(c, req, &who) || !srv_auth_presence(c, &who, channel))
		return;
	srv_presence_entry *list = malloc(PRESENCE_LISTED_MAX * sizeof(*list));
	if (list == NULL) {
		srv_answer_error(c, 500, "out of memory");
		return;
	}
	long found = srv_presence_list(&c->s->presence, channel, list, PRESENCE_LISTED_MAX);
	if (found < 0) {
		free(list);
		srv_answer_error(c, 503, "redis unavailable");
		return;
	}
	size_t count = (size_t)found;
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"channel\":");
	http_buf_json_string(&json, channel, strlen(channel));
	http_buf_printf(&json, ",\"count\":%zu,\"clients\":[", count);
	for (size_t i = 0; i < count && i < PRESENCE_LISTED_MAX; i++) {
		http_buf_puts(&json, i > 0 ? ",{\"name\":" : "{\"name\":");
		http_buf_json_string(&json, list[i].name, strlen(list[i].name));
		http_buf_printf(&json, ",\"kind\":\"%s\",\"since\":%llu}", kind_name(list[i].kind),
		                (unsigned long long)list[i].since_ms);
	}
	http_buf_puts(&json, count > PRESENCE_LISTED_MAX ? "],\"truncated\":true}" : "]}");
	free(list);
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}
