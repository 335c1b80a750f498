/*
 * reader.h - the client a request reads or joins as (/ab_b1, /get_msg,
 * /ws, /events): its name's token checked (auth.h) and its channels set
 * from channels=A,B, with every refusal answered in the same words on
 * every transport.
 */
#ifndef PUSHQ_READER_H
#define PUSHQ_READER_H

#include "server/core/auth.h"
#include "server/core/conn.h"
#include "server/room/registry.h"

/* Registers client `name` (or finds it) as `kind`; NULL after answering
 * 400 (bad channels), 401/403 (tokens) or 503. */
srv_client *srv_reader_join(srv_conn *c, const http_request *req, const char *name,
                            srv_client_kind kind, srv_who *who);

/* Finds client `name` (404 if there is none), with the same checks. */
srv_client *srv_reader_find(srv_conn *c, const http_request *req, const char *name,
                            srv_who *who);

#endif
