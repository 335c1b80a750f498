/*
 * ws_echo.c - GET /ws/echo: every message comes back as one message of the
 * same type (websocket.h).  The smallest session kind: all the protocol is
 * ws_session.c's; a message is simply sent back.
 */
#include "server/push/websocket.h"
#include "server/push/ws_session.h"

static bool
echo_message(ws_session *ws, const ws_event *ev)
{
	return ws_send_frame(ws, ev->opcode, ev->data, ev->len);
}

static const ws_handler echo_handler = { .on_message = echo_message };

void
srv_view_ws_echo(srv_conn *c, const http_request *req)
{
	char accept[29];
	ws_session ws;
	if (ws_upgrade_check(c, req, accept)) {
		if (ws_session_init(&ws, c, &echo_handler))
			ws_session_run(&ws, accept);
		else
			ws_refuse(c, 503);
	}
}
