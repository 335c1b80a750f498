/*
 * lab_http.h - the queue lab's HTTP API (docs/api.md, "The queue lab"):
 * its routes, one view per queue.h call (lab_http.c).
 */
#ifndef PUSHQ_LAB_HTTP_H
#define PUSHQ_LAB_HTTP_H

#include "server/core/route.h"

/* The lab's routes, for the server's route table (routes.c). */
extern const srv_route srv_lab_routes[];
extern const size_t srv_lab_route_count;

#endif
