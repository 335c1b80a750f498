/*
 * channels.h - the channel views (channels.c): POST /subscribe and
 * /unsubscribe change one client's channels; GET /presence says who in a
 * channel is online now; POST /leave is a client saying goodbye to the
 * room itself (forgotten now, not after --client-ttl).
 */
#ifndef PUSHQ_CHANNELS_H
#define PUSHQ_CHANNELS_H

#include "server/core/conn.h"

void srv_view_subscribe(srv_conn *c, const http_request *req);
void srv_view_unsubscribe(srv_conn *c, const http_request *req);
void srv_view_presence(srv_conn *c, const http_request *req);
void srv_view_leave(srv_conn *c, const http_request *req);

#endif
