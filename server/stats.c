/*
 * stats.c - GET /stats (see stats.h): what every layer counts, gathered
 * into one JSON answer.  Each part asks its own layer -- the connections
 * (core), the messages and clients (room), the lab, the Redis link -- and
 * renders the numbers here, so no layer below writes /stats itself.
 */
#include "server/stats.h"
#include "server/core/answer.h"
#include "server/core/auth.h"
#include "server/core/params.h"
#include "server/lab/lab.h"
#include "server/room/channel.h"
#include "server/common/clock.h"

#include <stdio.h>
#include <string.h>

/* Reads "Threads:" from /proc/self/status; 0 where there is no /proc. */
static long
thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	long threads = 0;
	char line[128];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Threads: %ld", &threads) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return threads;
}

static const char *
kind_name(srv_client_kind kind)
{
	return kind == SRV_CLIENT_WS ? "ws" : kind == SRV_CLIENT_SSE ? "sse" : "poll";
}

/* What the visit of the clients writes into. */
typedef struct {
	http_buf *b;
	bool first;
} clients_json;

/* One client: {"name","kind","short","queue","peak","maxsize","dropped",
 * "waiting","sessions","idle"}. */
static void
append_client(const srv_client_info *info, void *ctx)
{
	clients_json *out = ctx;
	http_buf_puts(out->b, out->first ? "{\"name\":" : ",{\"name\":");
	out->first = false;
	http_buf_json_string(out->b, info->name, strlen(info->name));
	http_buf_printf(out->b, ",\"kind\":\"%s\",\"short\":%s,\"queue\":%zu,"
	                "\"peak\":%zu,\"maxsize\":%ld,\"dropped\":%ld,"
	                "\"waiting\":%u,\"sessions\":%d,\"idle\":%.1f}",
	                kind_name(info->kind), info->short_polling ? "true" : "false",
	                info->queued, info->peak, info->maxsize, info->dropped,
	                info->waiting, info->sessions, info->idle);
}

/* "redis": the link's state, or null without --redis. */
static void
append_redis(http_buf *b, srv_bridge *bridge)
{
	if (bridge == NULL) {
		http_buf_puts(b, "null");
		return;
	}
	srv_bridge_state st;
	srv_bridge_state_get(bridge, &st);
	http_buf_printf(b, "{\"connected\":%s,\"key\":", st.connected ? "true" : "false");
	http_buf_json_string(b, st.key, strlen(st.key));
	http_buf_printf(b, ",\"last_id\":%llu,\"last_entry\":", (unsigned long long)st.last_id);
	http_buf_json_string(b, st.last_entry, strlen(st.last_entry));
	http_buf_printf(b, ",\"reconnects\":%llu,\"behind\":%llu}",
	                (unsigned long long)st.reconnects, (unsigned long long)st.behind);
}

void
srv_view_stats(srv_conn *c, const http_request *req)
{
	srv *s = c->s;
	char name[SRV_NAME_MAX + 1];
	int only = srv_query_name(req, name);
	srv_who who;
	if (!srv_auth_identify(c, req, &who) || !srv_auth_backend(c, &who))
		return;
	if (only < 0) {
		srv_answer_no_message(c, 400, "bad name");
		return;
	}
	srv_registry_counts counts;
	srv_registry_counts_get(s->registry, &counts);
	http_buf json = { 0 };
	http_buf_printf(&json,
	                "{\"uptime\":%.3f,\"connections\":{\"open\":%ld,\"total\":%llu},"
	                "\"threads\":%ld,\"messages\":{\"sent\":%llu,\"delivered\":%llu,"
	                "\"dropped\":%llu,\"missed\":%llu,\"last_id\":%llu},"
	                "\"history\":{\"held\":%zu,\"max\":%ld},\"queue_size\":%ld,"
	                "\"poll_timeout\":%g,\"client_count\":%zu,\"channel_count\":%zu,\"clients\":[",
	                srv_monotonic() - s->started, srv_open_conns(s),
	                (unsigned long long)atomic_load(&s->total_conns), thread_count(),
	                (unsigned long long)counts.sent, (unsigned long long)counts.delivered,
	                (unsigned long long)counts.dropped, (unsigned long long)counts.missed,
	                (unsigned long long)counts.last_id, counts.history, s->cfg.history,
	                s->cfg.queue_size, s->cfg.poll_timeout, counts.clients,
	                srv_registry_channel_count(s->registry));
	clients_json clients = { &json, true };
	srv_registry_visit(s->registry, only > 0 ? name : NULL, append_client, &clients);
	size_t lab_queues;
	long lab_blocked;
	srv_lab_counts(s->lab, &lab_queues, &lab_blocked);
	http_buf_printf(&json, "],\"lab\":{\"queues\":%zu,\"max_queues\":%d,\"blocked\":%ld,"
	                "\"max_blocked\":%ld}", lab_queues, SRV_LAB_MAX_QUEUES, lab_blocked,
	                srv_lab_max_waiting(s->lab));
	http_buf_puts(&json, ",\"redis\":");
	append_redis(&json, s->bridge);
	http_buf_puts(&json, "}");
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}
