/*
 * longpoll.h - GET /get_msg: long polling (and, with timeout=0, short
 * polling), the design card's heart: the request's thread blocks in its
 * client's queue until a message, the timeout, a hang-up or the stop.
 */
#ifndef PUSHQ_LONGPOLL_H
#define PUSHQ_LONGPOLL_H

#include "server/core/conn.h"

/* GET|HEAD /get_msg?name=N[&timeout=S][&since=ID] (docs/api.md). */
void srv_view_get_msg(srv_conn *c, const http_request *req);

#endif
