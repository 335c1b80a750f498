/*
 * metrics.h - GET /metrics: the server's counters in the Prometheus text
 * format (version 0.0.4), for a Prometheus to scrape (metrics.c; every
 * series is listed in docs/api.md, "Metrics").
 */
#ifndef PUSHQ_METRICS_H
#define PUSHQ_METRICS_H

#include "server/core/conn.h"

void srv_view_metrics(srv_conn *c, const http_request *req);

#endif
