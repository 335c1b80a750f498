/*
 * answer.h - the answers several views give in the same words: plain text,
 * the seed's {"status":false,"msg":""}, and why a client could not be
 * registered.  Each appends a whole response to c->out (conn.h).
 */
#ifndef PUSHQ_ANSWER_H
#define PUSHQ_ANSWER_H

#include "server/core/conn.h"
#include "server/room/channel.h"

/* A text/plain answer. */
void srv_answer_text(srv_conn *c, int status, const char *text);

/* {"status":false,"msg":""}, with ,"error":TEXT when error is not NULL. */
void srv_answer_no_message(srv_conn *c, int status, const char *error);

/* {"status":false,"error":TEXT}. */
void srv_answer_error(srv_conn *c, int status, const char *error);

/* Why a change of channels was refused: 400 (a bad name, too many for one
 * client), 503 (too many channels), 500 (out of memory). */
void srv_answer_sub_failed(srv_conn *c, srv_sub_rc why);

/* Why a client could not be registered (srv_registry_join): 503, or 400
 * for a list of channels it may not have. */
void srv_answer_join_failed(srv_conn *c, srv_join_rc why);

#endif
