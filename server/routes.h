/*
 * routes.h - which code answers which request: the server's route table
 * (routes.c), docs/api.md in code.
 */
#ifndef PUSHQ_ROUTES_H
#define PUSHQ_ROUTES_H

#include "server/core/route.h"

/* The route for a path: an API route, or the static files (any other
 * path is a file under --www).  Never NULL. */
const srv_route *srv_route_find(const char *path, size_t len);

/* The route in /metrics slot `slot` (0, 1, ...), or NULL past the last. */
const srv_route *srv_route_at(size_t slot);

/* Answers one request (the server's srv_route_fn, set by main.c). */
void srv_route_request(srv_conn *c, const http_request *req);

#endif
