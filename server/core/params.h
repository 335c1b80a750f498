/*
 * params.h - the parameters several views read from a request: a client's
 * name and a resume's `since`, from the query string or a form body.
 * Each returns 1 found (the value set), 0 absent, -1 present but invalid:
 * the view decides what an absence means, and answers 400 for -1.
 */
#ifndef PUSHQ_PARAMS_H
#define PUSHQ_PARAMS_H

#include "http/http.h"
#include "server/room/channel.h"
#include "server/room/registry.h"

#include <stddef.h>
#include <stdint.h>

/* A client name from form text (a query or a body) into
 * name[SRV_NAME_MAX + 1]: 0 also when empty; -1 malformed, too long, or
 * holding a NUL (%00 would make "a%00b" the same client as "a"). */
int srv_form_name(const char *form, size_t len, char name[SRV_NAME_MAX + 1]);

/* The ?name= of a request (see srv_form_name). */
int srv_query_name(const http_request *req, char name[SRV_NAME_MAX + 1]);

/* ?since=ID (a resume, resume.h): decimal digits that fit in 64 bits. */
int srv_query_since(const http_request *req, uint64_t *out);

/* What a bad channel parameter gets: 400 with one of these as "error". */
#define SRV_BAD_CHANNEL "bad channel name"
#define SRV_TOO_MANY_FOR_CLIENT "too many channels for one client (--max-channels-per-client)"

/*
 * A comma-separated list of channels (`key`=A,B,...) from form text, at
 * most `limit` of them: 1 with *out set, 0 absent, -1 invalid -- *error
 * is SRV_BAD_CHANNEL (an empty name too: "room,,x") or
 * SRV_TOO_MANY_FOR_CLIENT.
 */
int srv_form_channels(const char *form, size_t len, const char *key, long limit,
                      srv_channel_list *out, const char **error);

/* ?channels=A,B (see srv_form_channels). */
int srv_query_channels(const http_request *req, long limit, srv_channel_list *out,
                       const char **error);

/* One channel (`key`=C) from form text into out[SRV_CHANNEL_MAX + 1]: 1,
 * 0 absent, -1 not a channel name (an empty one too). */
int srv_form_channel(const char *form, size_t len, const char *key, char *out);

#endif
