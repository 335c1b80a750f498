/*
 * stats.h - GET /stats: the server's counters and every client, as JSON
 * (stats.c; the fields are in docs/api.md).  The pages draw from it.
 */
#ifndef PUSHQ_STATS_H
#define PUSHQ_STATS_H

#include "server/core/conn.h"

/* GET|HEAD /stats, or /stats?name=N for client N alone. */
void srv_view_stats(srv_conn *c, const http_request *req);

#endif
