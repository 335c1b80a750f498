/* answer.c - answers shared by several views (see answer.h). */
#include "server/core/answer.h"
#include "server/core/params.h"

#include <stdio.h>
#include <string.h>

void
srv_answer_text(srv_conn *c, int status, const char *text)
{
	srv_respond(c, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

void
srv_answer_no_message(srv_conn *c, int status, const char *error)
{
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":false,\"msg\":\"\"");
	if (error != NULL) {
		http_buf_puts(&json, ",\"error\":");
		http_buf_json_string(&json, error, strlen(error));
	}
	http_buf_puts(&json, "}");
	srv_respond_json(c, status, &json);
	http_buf_free(&json);
}

void
srv_answer_error(srv_conn *c, int status, const char *error)
{
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":false,\"error\":");
	http_buf_json_string(&json, error, strlen(error));
	http_buf_puts(&json, "}");
	srv_respond_json(c, status, &json);
	http_buf_free(&json);
}

void
srv_answer_sub_failed(srv_conn *c, srv_sub_rc why)
{
	switch (why) {
	case SRV_SUB_NO_ROOM: srv_answer_error(c, 503, "too many channels"); break;
	case SRV_SUB_TOO_MANY: srv_answer_error(c, 400, SRV_TOO_MANY_FOR_CLIENT); break;
	case SRV_SUB_BAD_NAME: srv_answer_error(c, 400, SRV_BAD_CHANNEL); break;
	default: srv_answer_error(c, 500, "out of memory"); break;
	}
}

void
srv_answer_join_failed(srv_conn *c, srv_join_rc why)
{
	if (why == SRV_JOIN_BAD_CHANNELS) {
		srv_answer_error(c, 400, "bad channel name, or too many channels for one client");
	} else if (why == SRV_JOIN_NO_CHANNEL_ROOM) {
		srv_answer_error(c, 503, "too many channels");
	} else if (why == SRV_JOIN_FULL) {
		char text[128];
		snprintf(text, sizeof(text), "too many clients: this server keeps at most %ld "
		         "(--max-clients); try again when idle ones are forgotten\n",
		         c->s->cfg.max_clients);
		srv_answer_text(c, 503, text);
	} else {
		srv_answer_text(c, 503, why == SRV_JOIN_STOPPING ? "the server is stopping\n"
		                                                 : "cannot register now\n");
	}
}
