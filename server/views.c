/*
 * views.c - the seed tutorial's Django views in C (see views.h): what each
 * answers is in docs/api.md.
 */
#include "server/views.h"
#include "server/core/answer.h"
#include "server/core/params.h"
#include "server/core/reader.h"
#include "server/core/static.h"
#include "server/room/send.h"
#include "http/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
srv_view_ab_dy(srv_conn *c, const http_request *req)
{
	if (req->method == HTTP_POST) {
		const char *json = "{\"username\":\"tony\"}";
		srv_respond(c, 200, "application/json", json, strlen(json), NULL);
	} else {
		srv_serve_file(c, "ab_dy.html");
	}
}

/* A fresh name for a visitor who came without one. */
static void
redirect_to_new_name(srv_conn *c)
{
	unsigned char r[4];
	if (getentropy(r, sizeof(r)) != 0) {   /* no entropy: still unique */
		unsigned long long n = atomic_load(&c->s->total_conns);
		memcpy(r, &n, sizeof(r));
	}
	char extra[96];
	snprintf(extra, sizeof(extra), "Location: /ab_b1?name=guest-%02x%02x%02x%02x\r\n",
	         r[0], r[1], r[2], r[3]);
	srv_respond(c, 302, "text/plain; charset=utf-8", "", 0, extra);
}

void
srv_view_ab_b1(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	int found = srv_query_name(req, name);
	if (found < 0) {
		srv_answer_text(c, 400, "bad name: at most 64 bytes, valid %-escapes\n");
		return;
	}
	if (found == 0) {
		redirect_to_new_name(c);
		return;
	}
	srv_who who;
	srv_client *client = srv_reader_join(c, req, name, SRV_CLIENT_POLL, &who);
	if (client == NULL)
		return;
	srv_client_release(c->s->registry, client);
	srv_serve_file(c, "ab_b1.html");
}

/* The answer to a send: {"status":true,"id":N,"receivers":K}, or why not
 * (nothing was sent then). */
static void
answer_sent(srv_conn *c, srv_send_rc rc, const srv_sent *sent)
{
	if (rc == SRV_SENT) {
		http_buf json = { 0 };
		http_buf_printf(&json, "{\"status\":true,\"id\":%llu,\"receivers\":",
		                (unsigned long long)sent->id);
		if (sent->receivers >= 0)
			http_buf_printf(&json, "%ld}", sent->receivers);
		else
			http_buf_puts(&json, "null}");    /* --redis: the nodes deliver it later */
		srv_respond_json(c, 200, &json);
		http_buf_free(&json);
	} else if (rc == SRV_SEND_UNKNOWN) {
		srv_answer_error(c, 404, "unknown client");
	} else if (rc == SRV_SEND_UNAVAILABLE) {
		const char *json = "{\"status\":false,\"error\":\"redis unavailable\"}";
		srv_respond(c, 503, "application/json", json, strlen(json), "Retry-After: 1\r\n");
	} else {
		srv_answer_text(c, 500, "out of memory\n");
	}
}

/*
 * Where a send goes: channel=C (default: the default channel) or to=NAME,
 * not both.  False after answering 400.
 */
static bool
send_target(srv_conn *c, const http_request *req, char *name, srv_target *to)
{
	int channel = srv_form_channel(req->body, req->body_len, "channel", name);
	long to_len = http_form_value(req->body, req->body_len, "to", name + SRV_CHANNEL_MAX + 1,
	                              SRV_NAME_MAX + 1);
	const char *to_name = name + SRV_CHANNEL_MAX + 1;
	if (channel != 0 && to_len != -1) {
		srv_answer_error(c, 400, "channel or to, not both");
		return false;
	}
	if (channel < 0) {
		srv_answer_error(c, 400, SRV_BAD_CHANNEL);
		return false;
	}
	if (to_len != -1 && (to_len <= 0 || strlen(to_name) != (size_t)to_len)) {
		srv_answer_error(c, 400, "bad name in to");
		return false;
	}
	*to = to_len != -1 ? (srv_target){ true, to_name }
	    : (srv_target){ false, channel > 0 ? name : SRV_DEFAULT_CHANNEL };
	return true;
}

void
srv_view_send_msg(srv_conn *c, const http_request *req)
{
	/* Decoded text is never longer than the body. */
	char *content = malloc(req->body_len + 1);
	char from[SRV_NAME_MAX + 1] = "";
	char names[SRV_CHANNEL_MAX + 1 + SRV_NAME_MAX + 1];   /* channel, then to */
	srv_target to;
	if (content == NULL) {
		srv_answer_text(c, 500, "out of memory\n");
		return;
	}
	long len = http_form_value(req->body, req->body_len, "content", content, req->body_len + 1);
	int from_found = srv_form_name(req->body, req->body_len, from);
	if (len == -2 || from_found < 0) {
		srv_answer_text(c, 400, "bad form body: invalid %-escape or name too long\n");
	} else if (len <= 0) {
		srv_answer_text(c, 400, "missing content\n");
	} else if (send_target(c, req, names, &to)) {
		srv_who who;
		const char *sender;
		if (srv_auth_identify(c, req, &who) &&
		    srv_auth_publish(c, &who, &to, from_found > 0 ? from : "", &sender)) {
			srv_sent sent;
			srv_send_rc rc = srv_send_message(c->s->registry, c->s->bridge, &to, sender,
			                                  content, (size_t)len, NULL, &sent);
			answer_sent(c, rc, &sent);
		}
	}
	free(content);
}

/*
 * For the handshake lab on ws.html: the Sec-WebSocket-Accept this server
 * answers for ?key=, computed by the same code as a real upgrade, so the
 * page can check its own SubtleCrypto result against the server's.
 */
void
srv_view_ws_accept(srv_conn *c, const http_request *req)
{
	char key[64], accept[29];
	long n = http_form_value(req->query, strlen(req->query), "key", key, sizeof(key));
	if (n <= 0 || !ws_key_valid(key) || !ws_accept_key(key, accept)) {
		srv_answer_no_message(c, 400, "key must be 16 bytes in base64 (24 characters)");
		return;
	}
	http_buf json = { 0 };
	http_buf_printf(&json, "{\"key\":\"%s\",\"guid\":\"%s\",\"accept\":\"%s\"}",
	                key, WS_GUID, accept);
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}
