/*
 * answer.h - the answers several views give in the same words: plain text,
 * the seed's {"status":false,"msg":""}, and why a client could not be
 * registered.  Each appends a whole response to c->out (conn.h).
 */
#ifndef PUSHQ_ANSWER_H
#define PUSHQ_ANSWER_H

#include "server/core/conn.h"

/* A text/plain answer. */
void srv_answer_text(srv_conn *c, int status, const char *text);

/* {"status":false,"msg":""}, with ,"error":TEXT when error is not NULL. */
void srv_answer_no_message(srv_conn *c, int status, const char *error);

/* 503 for a client that could not be registered (srv_registry_join). */
void srv_answer_join_failed(srv_conn *c, srv_join_rc why);

#endif
