/*
 * sse.h - GET /events: Server-Sent Events, the fourth way to push.
 */
#ifndef PUSHQ_SSE_H
#define PUSHQ_SSE_H

#include "server/core/conn.h"

/* GET /events?name=N[&since=ID] (or Last-Event-ID): streams N's messages
 * until the client leaves or the server stops (docs/api.md). */
void srv_view_events(srv_conn *c, const http_request *req);

#endif
