/*
 * views.h - the tutorial's own views (views.c): the AJAX demo, the
 * long-polling chat page, sending a message; and the handshake lab's
 * /ws/accept.  (get_msg, the fourth, is long polling: push/longpoll.h.)
 */
#ifndef PUSHQ_VIEWS_H
#define PUSHQ_VIEWS_H

#include "server/core/conn.h"

void srv_view_ab_dy(srv_conn *c, const http_request *req);
void srv_view_ab_b1(srv_conn *c, const http_request *req);
void srv_view_send_msg(srv_conn *c, const http_request *req);
void srv_view_ws_accept(srv_conn *c, const http_request *req);

#endif
