/*
 * websocket.h - the WebSocket views: the chat on /ws (ws_chat.c) and the
 * echo on /ws/echo (ws_echo.c).  Each answers the upgrade and then runs
 * the session in this connection's thread until it ends.
 */
#ifndef PUSHQ_WEBSOCKET_H
#define PUSHQ_WEBSOCKET_H

#include "server/core/conn.h"

/* GET /ws?name=N[&since=ID]: the chat as client N (docs/api.md). */
void srv_view_ws_chat(srv_conn *c, const http_request *req);

/* GET /ws/echo: every message comes back as one of the same type. */
void srv_view_ws_echo(srv_conn *c, const http_request *req);

#endif
