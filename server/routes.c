/*
 * routes.c - the route table: every path of the API, the methods it takes,
 * and the view that answers it (docs/api.md in code).  The lab's routes
 * come from the lab (lab/lab_http.c); any other path is a file under --www.
 *
 * srv_route_run answers 405 with the Allow header for any other method
 * (core/route.c, the one place that does), so no view checks its method.
 * Every API path also accepts a trailing slash, as the seed's Django URLs
 * did.
 */
#include "server/routes.h"
#include "server/channels.h"
#include "server/metrics.h"
#include "server/stats.h"
#include "server/views.h"
#include "server/core/answer.h"
#include "server/core/auth.h"
#include "server/core/static.h"
#include "server/lab/lab_http.h"
#include "server/push/longpoll.h"
#include "server/push/sse.h"
#include "server/push/websocket.h"

static const srv_route routes[] = {
	{ "/ab_dy",      SRV_M_GET | SRV_M_HEAD | SRV_M_POST, srv_view_ab_dy },
	{ "/ab_b1",      SRV_M_GET | SRV_M_HEAD,              srv_view_ab_b1 },
	{ "/send_msg",   SRV_M_POST,                          srv_view_send_msg },
	{ "/get_msg",    SRV_M_GET | SRV_M_HEAD,              srv_view_get_msg },
	{ "/stats",      SRV_M_GET | SRV_M_HEAD,              srv_view_stats },
	{ "/ws",         SRV_M_GET,                           srv_view_ws_chat },
	{ "/ws/echo",    SRV_M_GET,                           srv_view_ws_echo },
	{ "/ws/accept",  SRV_M_GET | SRV_M_HEAD,              srv_view_ws_accept },
	{ "/events",     SRV_M_GET,                           srv_view_events },
	{ "/subscribe",  SRV_M_POST,                          srv_view_subscribe },
	{ "/unsubscribe", SRV_M_POST,                         srv_view_unsubscribe },
	{ "/leave",      SRV_M_POST,                          srv_view_leave },
	{ "/presence",   SRV_M_GET | SRV_M_HEAD,              srv_view_presence },
	{ "/metrics",    SRV_M_GET | SRV_M_HEAD,              srv_view_metrics },
};

/* Any other path: a file under --www. */
static const srv_route static_files = { "/", SRV_M_GET | SRV_M_HEAD, srv_serve_static };

/* Route slots for /metrics: the table's, then the lab's, then the files. */
#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

const srv_route *
srv_route_at(size_t slot)
{
	if (slot < ROUTE_COUNT)
		return &routes[slot];
	if (slot - ROUTE_COUNT < srv_lab_route_count)
		return &srv_lab_routes[slot - ROUTE_COUNT];
	return slot == ROUTE_COUNT + srv_lab_route_count ? &static_files : NULL;
}

static size_t
slot_of(const srv_route *r)
{
	if (r >= routes && r < routes + ROUTE_COUNT)
		return (size_t)(r - routes);
	if (r >= srv_lab_routes && r < srv_lab_routes + srv_lab_route_count)
		return ROUTE_COUNT + (size_t)(r - srv_lab_routes);
	return ROUTE_COUNT + srv_lab_route_count;
}

const srv_route *
srv_route_find(const char *path, size_t len)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (srv_route_matches(&routes[i], path, len))
			return &routes[i];
	for (size_t i = 0; i < srv_lab_route_count; i++)
		if (srv_route_matches(&srv_lab_routes[i], path, len))
			return &srv_lab_routes[i];
	return &static_files;
}

void
srv_route_request(srv_conn *c, const http_request *req)
{
	const srv_route *r = srv_route_find(req->path, req->path_len);
	bool lab = r >= srv_lab_routes && r < srv_lab_routes + srv_lab_route_count;
	c->status = 0;
	if (!srv_auth_origin(c, req))         /* --allow-origin: 403, or a preflight */
		;
	else if (lab && c->s->cfg.no_lab)
		srv_answer_error(c, 404, "the queue lab is off on this server (--no-lab)");
	else
		srv_route_run(r, c, req);
	size_t slot = slot_of(r);
	if (slot < SRV_ROUTE_SLOTS && c->status != 0)
		atomic_fetch_add_explicit(&c->s->requests[slot][srv_status_slot(c->status)], 1,
		                          memory_order_relaxed);
}
