/*
 * params.h - the parameters several views read from a request: a client's
 * name and a resume's `since`, from the query string or a form body.
 * Each returns 1 found (the value set), 0 absent, -1 present but invalid:
 * the view decides what an absence means, and answers 400 for -1.
 */
#ifndef PUSHQ_PARAMS_H
#define PUSHQ_PARAMS_H

#include "http/http.h"
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

#endif
