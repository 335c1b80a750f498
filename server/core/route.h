/*
 * route.h - what a route is: a path, the methods it takes, and its view.
 * The table of them is at the top (routes.c); each layer below that has
 * views of its own (the lab) hands its routes up in this form.
 */
#ifndef PUSHQ_ROUTE_H
#define PUSHQ_ROUTE_H

#include "server/core/conn.h"

#include <stdbool.h>
#include <stddef.h>

/* The methods a route takes, one bit each. */
#define SRV_M_GET  (1u << HTTP_GET)
#define SRV_M_HEAD (1u << HTTP_HEAD)
#define SRV_M_POST (1u << HTTP_POST)

typedef void srv_view_fn(srv_conn *c, const http_request *req);

typedef struct {
	const char *path;      /* also matches with a trailing slash */
	unsigned methods;      /* SRV_M_* */
	srv_view_fn *view;     /* never called for another method */
} srv_route;

/* True when path[0..len) is the route's path, or it and "/" (the seed's
 * Django URLs ended in a slash). */
bool srv_route_matches(const srv_route *r, const char *path, size_t len);

/* The Allow header's value for `methods` ("GET, HEAD, POST") into out. */
void srv_route_allow(unsigned methods, char *out, size_t cap);

/* Runs r for req: 405 with Allow (RFC 9110 section 15.5.6) for a method it
 * does not take -- the one place that answers 405 -- else its view. */
void srv_route_run(const srv_route *r, srv_conn *c, const http_request *req);

/* The statuses /metrics counts apart, and the slot of one (the last slot:
 * any other). */
extern const int srv_status_codes[SRV_STATUS_SLOTS - 1];
int srv_status_slot(int status);

#endif
