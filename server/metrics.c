/*
 * metrics.c - GET /metrics (see metrics.h).  Like /stats it asks each layer
 * for its numbers and renders them here, by Prometheus's conventions:
 * counters end in _total, times are in _seconds, and nothing gets a series
 * per client -- queue depths are a histogram over the clients, and only
 * the 20 biggest channels have series of their own, so the number of
 * series stays bounded however many clients and channels there are.
 */
#include "server/metrics.h"
#include "server/routes.h"
#include "server/core/auth.h"
#include "server/lab/lab.h"
#include "server/room/channel.h"
#include "server/room/delay.h"
#include "server/common/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TOP_CHANNELS 20

/* "# HELP" and "# TYPE" lines of a metric family. */
static void
family(http_buf *b, const char *name, const char *type, const char *help)
{
	http_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family with one unlabelled sample. */
static void
single(http_buf *b, const char *name, const char *type, const char *help, double value)
{
	family(b, name, type, help);
	http_buf_printf(b, "%s %.17g\n", name, value);
}

/* What the visit of the clients adds up. */
typedef struct {
	unsigned long long polls, websockets, sse, waiting;
	unsigned long long depth_le[5];            /* queue depth <= 0, 1, 10, 100, 1000 */
	unsigned long long depth_sum, clients;
} client_sums;

static const double depth_bounds[5] = { 0, 1, 10, 100, 1000 };

static void
add_client(const srv_client_info *info, void *ctx)
{
	client_sums *sum = ctx;
	sum->polls += (unsigned long long)info->polls_waiting;
	sum->websockets += (unsigned long long)info->sessions;
	sum->sse += (unsigned long long)info->sse_open;
	sum->waiting += info->waiting;
	for (int i = 0; i < 5; i++)
		sum->depth_le[i] += (double)info->queued <= depth_bounds[i];
	sum->depth_sum += info->queued;
	sum->clients++;
}

static void
connections(http_buf *b, srv *s, const client_sums *sum, const srv_registry_counts *counts)
{
	single(b, "pushq_connections_open", "gauge", "Connections open now.", (double)srv_open_conns(s));
	single(b, "pushq_connections_accepted_total", "counter", "Connections accepted.",
	       (double)atomic_load(&s->total_conns));
	family(b, "pushq_transport_connections_open", "gauge",
	       "Connections holding a client now, by transport (a long poll while it waits).");
	http_buf_printf(b, "pushq_transport_connections_open{transport=\"longpoll\"} %llu\n"
	                "pushq_transport_connections_open{transport=\"websocket\"} %llu\n"
	                "pushq_transport_connections_open{transport=\"sse\"} %llu\n",
	                sum->polls, sum->websockets, sum->sse);
	family(b, "pushq_transport_connections_total", "counter", "Connections begun, by transport.");
	http_buf_printf(b, "pushq_transport_connections_total{transport=\"longpoll\"} %llu\n"
	                "pushq_transport_connections_total{transport=\"websocket\"} %llu\n"
	                "pushq_transport_connections_total{transport=\"sse\"} %llu\n",
	                (unsigned long long)counts->started[SRV_CLIENT_POLL],
	                (unsigned long long)counts->started[SRV_CLIENT_WS],
	                (unsigned long long)counts->started[SRV_CLIENT_SSE]);
	single(b, "pushq_websocket_writer_threads_started_total", "counter",
	       "WebSocket writer threads started (a client reading slower than messages come).",
	       (double)atomic_load(&s->ws_writers_started));
	single(b, "pushq_threads_waiting", "gauge", "Threads blocked in a client's queue now.",
	       (double)sum->waiting);
}

static void
messages(http_buf *b, srv *s, const srv_registry_counts *counts)
{
	single(b, "pushq_messages_published_total", "counter", "Messages published.", (double)counts->sent);
	single(b, "pushq_messages_delivered_total", "counter", "Messages taken by a client.",
	       (double)counts->delivered);
	single(b, "pushq_messages_dropped_total", "counter", "Puts refused by a full queue.",
	       (double)counts->dropped);
	single(b, "pushq_messages_missed_total", "counter",
	       "Messages a resume found gone from the history.", (double)counts->missed);
	srv_channel_info top[TOP_CHANNELS];
	size_t n = srv_registry_top_channels(s->registry, top, TOP_CHANNELS);
	family(b, "pushq_channel_subscribers", "gauge", "Subscribers of the 20 biggest channels.");
	for (size_t i = 0; i < n; i++)
		http_buf_printf(b, "pushq_channel_subscribers{channel=\"%s\"} %zu\n", top[i].name,
		                top[i].subscribers);
	family(b, "pushq_channel_messages_published_total", "counter",
	       "Messages published to each of the 20 biggest channels.");
	for (size_t i = 0; i < n; i++)
		http_buf_printf(b, "pushq_channel_messages_published_total{channel=\"%s\"} %llu\n",
		                top[i].name, (unsigned long long)top[i].published);
}

static void
histograms(http_buf *b, srv *s, const client_sums *sum)
{
	family(b, "pushq_queue_depth", "histogram", "Messages waiting in each client's queue.");
	for (int i = 0; i < 5; i++)
		http_buf_printf(b, "pushq_queue_depth_bucket{le=\"%g\"} %llu\n", depth_bounds[i],
		                sum->depth_le[i]);
	http_buf_printf(b, "pushq_queue_depth_bucket{le=\"+Inf\"} %llu\npushq_queue_depth_sum %llu\n"
	                "pushq_queue_depth_count %llu\n", sum->clients, sum->depth_sum, sum->clients);
	const srv_delay *d = srv_registry_delay(s->registry);
	family(b, "pushq_delivery_delay_seconds", "histogram",
	       "From a message's sent_at to its bytes written to a client's socket.");
	unsigned long long cumulative = 0;
	for (int i = 0; i < SRV_DELAY_BUCKETS; i++) {
		cumulative += atomic_load(&d->in_bucket[i]);
		if (i < SRV_DELAY_BUCKETS - 1)
			http_buf_printf(b, "pushq_delivery_delay_seconds_bucket{le=\"%g\"} %llu\n",
			                srv_delay_bounds[i], cumulative);
		else
			http_buf_printf(b, "pushq_delivery_delay_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
	}
	http_buf_printf(b, "pushq_delivery_delay_seconds_sum %.6f\npushq_delivery_delay_seconds_count %llu\n",
	                (double)atomic_load(&d->sum_us) / 1e6, cumulative);
}

static void
requests(http_buf *b, srv *s)
{
	family(b, "pushq_http_requests_total", "counter", "Requests answered, by route and status.");
	for (size_t slot = 0; slot < SRV_ROUTE_SLOTS; slot++) {
		const srv_route *r = srv_route_at(slot);
		if (r == NULL)
			break;
		for (int st = 0; st < SRV_STATUS_SLOTS; st++) {
			unsigned long long n = atomic_load(&s->requests[slot][st]);
			if (n == 0)
				continue;
			const char *route = strcmp(r->path, "/") == 0 ? "static" : r->path;
			if (st < SRV_STATUS_SLOTS - 1)
				http_buf_printf(b, "pushq_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
				                route, srv_status_codes[st], n);
			else
				http_buf_printf(b, "pushq_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
				                route, n);
		}
	}
}

static void
the_rest(http_buf *b, srv *s, const srv_registry_counts *counts)
{
	single(b, "pushq_clients", "gauge", "Clients registered.", (double)counts->clients);
	single(b, "pushq_channels", "gauge", "Channels with at least one subscriber.",
	       (double)srv_registry_channel_count(s->registry));
	size_t lab_queues;
	long lab_blocked;
	srv_lab_counts(s->lab, &lab_queues, &lab_blocked);
	single(b, "pushq_lab_queues", "gauge", "Queue lab queues.", (double)lab_queues);
	single(b, "pushq_lab_calls_waiting", "gauge", "Queue lab calls that may block now.",
	       (double)lab_blocked);
	if (s->bridge != NULL) {
		srv_bridge_state st;
		srv_bridge_state_get(s->bridge, &st);
		single(b, "pushq_redis_connected", "gauge", "1 when the Redis link is up.",
		       st.connected ? 1 : 0);
		single(b, "pushq_redis_lag_messages", "gauge",
		       "Messages the room's stream holds that this node has not read yet.", (double)st.behind);
		single(b, "pushq_redis_reconnects_total", "counter", "Times the Redis link came back.",
		       (double)st.reconnects);
	}
	single(b, "pushq_start_time_seconds", "gauge", "When the server started, seconds since 1970.",
	       (double)time(NULL) - (srv_monotonic() - s->started));
}

void
srv_view_metrics(srv_conn *c, const http_request *req)
{
	srv *s = c->s;
	srv_who who;
	if (!srv_auth_identify(c, req, &who) || !srv_auth_backend(c, &who))
		return;
	srv_registry_counts counts;
	srv_registry_counts_get(s->registry, &counts);
	client_sums sum = { 0 };
	srv_registry_visit(s->registry, NULL, add_client, &sum);
	http_buf b = { 0 };
	connections(&b, s, &sum, &counts);
	messages(&b, s, &counts);
	histograms(&b, s, &sum);
	requests(&b, s);
	the_rest(&b, s, &counts);
	srv_respond(c, b.failed ? 500 : 200, "text/plain; version=0.0.4; charset=utf-8", b.data,
	            b.len, NULL);
	http_buf_free(&b);
}
