/*
 * router.c - which code answers which request: the route table at the end
 * of this file (docs/api.md in code), and the seed's Django views.
 *
 * A route is a path, the methods it takes and its view.  srv_route finds
 * the route, answers 405 with the Allow header for any other method (the
 * one place that does), and calls the view, which so never checks its
 * method.  Every API path also accepts a trailing slash, as the seed's
 * Django URLs did; anything that is no API path is a file under --www.
 */
#include "http/ws.h"
#include "server/bridge.h"
#include "server/handlers.h"
#include "server/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* True when the request path is `route` or `route` + "/". */
static bool
path_is(const http_request *req, const char *route)
{
	size_t n = strlen(route);
	return strncmp(req->path, route, n) == 0 &&
	       (req->path_len == n || (req->path_len == n + 1 && req->path[n] == '/'));
}

static void
respond_text(srv_conn *c, int status, const char *text)
{
	srv_respond(c, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

/* {"status":false,"msg":""} plus an optional "error". */
static void
respond_no_message(srv_conn *c, int status, const char *error)
{
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":false,\"msg\":\"\"");
	if (error != NULL) {
		http_buf_puts(&json, ",\"error\":");
		http_buf_json_string(&json, error, strlen(error));
	}
	http_buf_puts(&json, "}");
	srv_respond_json(c, status, &json);
	http_buf_free(&json);
}

/* A client name from form text (a query or a body) into
 * name[SRV_NAME_MAX + 1]: 1 found, 0 absent or empty, -1 malformed, too
 * long, or holding a NUL (%00 would make "a%00b" the same client as "a"). */
static int
form_name(const char *form, size_t len, char name[SRV_NAME_MAX + 1])
{
	long n = http_form_value(form, len, "name", name, SRV_NAME_MAX + 1);
	if (n == -2 || (n > 0 && strlen(name) != (size_t)n))
		return -1;
	return n > 0 ? 1 : 0;
}

/* The ?name= of a request (see form_name). */
static int
query_name(const http_request *req, char name[SRV_NAME_MAX + 1])
{
	return form_name(req->query, strlen(req->query), name);
}

/* ?since=ID (a resume, registry.h): 1 with *out set, 0 absent, -1 invalid. */
static int
query_since(const http_request *req, uint64_t *out)
{
	char text[24];
	long n = http_form_value(req->query, strlen(req->query), "since", text, sizeof(text));
	if (n == -1)
		return 0;
	return n > 0 && http_parse_event_id(text, out) ? 1 : -1;
}

/* The answer for a client that could not be registered. */
static void
respond_join_failed(srv_conn *c, srv_join_rc why)
{
	if (why == SRV_JOIN_FULL) {
		char text[128];
		snprintf(text, sizeof(text), "too many clients: this server keeps at most %ld "
		         "(--max-clients); try again when idle ones are forgotten\n",
		         c->s->cfg.max_clients);
		respond_text(c, 503, text);
	} else {
		respond_text(c, 503, why == SRV_JOIN_STOPPING ? "the server is stopping\n"
		                                              : "cannot register now\n");
	}
}

/* ------------------------------------------------------------------ */
/* The views                                                           */
/* ------------------------------------------------------------------ */

static void
view_ab_dy(srv_conn *c, const http_request *req)
{
	if (req->method == HTTP_POST) {
		const char *json = "{\"username\":\"tony\"}";
		srv_respond(c, 200, "application/json", json, strlen(json), NULL);
	} else {
		srv_serve_file(c, "ab_dy.html");
	}
}

/* A fresh name for a visitor who came without one. */
static void
redirect_to_new_name(srv_conn *c)
{
	unsigned char r[4];
	if (getentropy(r, sizeof(r)) != 0) {   /* no entropy: still unique */
		unsigned long long n = atomic_load(&c->s->total_conns);
		memcpy(r, &n, sizeof(r));
	}
	char extra[96];
	snprintf(extra, sizeof(extra), "Location: /ab_b1?name=guest-%02x%02x%02x%02x\r\n",
	         r[0], r[1], r[2], r[3]);
	srv_respond(c, 302, "text/plain; charset=utf-8", "", 0, extra);
}

static void
view_ab_b1(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	int found = query_name(req, name);
	if (found < 0) {
		respond_text(c, 400, "bad name: at most 64 bytes, valid %-escapes\n");
		return;
	}
	if (found == 0) {
		redirect_to_new_name(c);
		return;
	}
	srv_join_rc why;
	srv_client *client = srv_registry_join(c->s->registry, name, SRV_CLIENT_POLL, &why);
	if (client == NULL) {
		respond_join_failed(c, why);
		return;
	}
	srv_client_release(c->s->registry, client);
	srv_serve_file(c, "ab_b1.html");
}

/* The answer to a send: "ok", or why not (nothing was sent then). */
static void
respond_sent(srv_conn *c, srv_send_rc rc)
{
	if (rc == SRV_SENT) {
		respond_text(c, 200, "ok");
	} else if (rc == SRV_SEND_UNAVAILABLE) {
		const char *json = "{\"status\":false,\"error\":\"redis unavailable\"}";
		srv_respond(c, 503, "application/json", json, strlen(json), "Retry-After: 1\r\n");
	} else {
		respond_text(c, 500, "out of memory\n");
	}
}

static void
view_send_msg(srv_conn *c, const http_request *req)
{
	/* Decoded text is never longer than the body. */
	char *content = malloc(req->body_len + 1);
	char from[SRV_NAME_MAX + 1] = "";
	if (content == NULL) {
		respond_text(c, 500, "out of memory\n");
		return;
	}
	long len = http_form_value(req->body, req->body_len, "content", content, req->body_len + 1);
	int from_found = form_name(req->body, req->body_len, from);
	if (len == -2 || from_found < 0)
		respond_text(c, 400, "bad form body: invalid %-escape or name too long\n");
	else if (len <= 0)
		respond_text(c, 400, "missing content\n");
	else
		respond_sent(c, srv_send_message(c->s, from_found > 0 ? from : "", content, (size_t)len, NULL));
	free(content);
}

/* ?timeout=S: 1 with *out set, 0 absent, -1 invalid. */
static int
query_timeout(const http_request *req, double *out)
{
	char text[32];
	long n = http_form_value(req->query, strlen(req->query), "timeout", text, sizeof(text));
	if (n == -1)
		return 0;
	if (n <= 0)
		return -1;
	char *end;
	errno = 0;
	double t = strtod(text, &end);
	if (errno != 0 || *end != '\0' || isnan(t) || t < 0)
		return -1;
	*out = t;
	return 1;
}

/* Answers with the message taken for this client, or gives it back. */
static void
deliver(srv_conn *c, srv_client *client, srv_msg *m, srv_gap gap)
{
	http_buf json = { 0 };
	srv_msg_append_json(&json, m, &gap);
	/* A peer that left while we waited would never see it: keep it. */
	bool sent = !json.failed && !srv_peer_closed(c->fd);
	if (sent) {
		srv_respond_json(c, 200, &json);
		sent = srv_flush(c);
	}
	if (sent)
		srv_msg_release(m);
	else
		srv_client_give_back(c->s->registry, client, m, gap);
	http_buf_free(&json);
}

/*
 * The heart of long polling: block this thread in the client's queue for
 * up to `timeout` seconds -- the tutorial's q.get(timeout=10) -- with the
 * socket parked at the watcher (watch.h), so that a client that hangs up
 * meanwhile gives this thread and its connection back at once.
 */
static void
take_and_answer(srv_conn *c, srv_client *client, double timeout)
{
	srv *s = c->s;
	const atomic_bool *hung_up = timeout > 0 ? srv_watch_park(s->watch, c->fd, client) : NULL;
	srv_msg *m;
	srv_gap gap;
	queue_rc rc = srv_client_take(s->registry, client, timeout, hung_up, &m, &gap);
	bool gone = hung_up != NULL && srv_watch_unpark(s->watch, c->fd);
	if (gone || rc == QUEUE_CANCELLED) {
		if (rc == QUEUE_OK)              /* taken as the client left: keep it */
			srv_client_give_back(s->registry, client, m, gap);
		c->keep_alive = false;           /* nobody to answer: close */
	} else if (rc == QUEUE_OK && !c->head_only) {
		deliver(c, client, m, gap);
	} else {
		if (rc == QUEUE_OK)              /* HEAD takes nothing away */
			srv_client_give_back(s->registry, client, m, gap);
		respond_no_message(c, 200, NULL);
	}
}

/* The client a /get_msg waits on.  A resume (?since=) may bring back a
 * client that was forgotten (or never was): it is registered again, and its
 * backlog comes from the history.  Without since, an unknown name is 404. */
static srv_client *
get_msg_client(srv_conn *c, const char *name, const uint64_t *since)
{
	srv_registry *r = c->s->registry;
	if (since == NULL) {
		srv_client *client = srv_registry_find(r, name);
		if (client == NULL)
			respond_no_message(c, 404, "unknown client");
		return client;
	}
	srv_join_rc why;
	srv_client *client = srv_registry_join(r, name, SRV_CLIENT_POLL, &why);
	if (client == NULL)
		respond_join_failed(c, why);
	else
		srv_client_resume(r, client, *since);
	return client;
}

static void
view_get_msg(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	double timeout = c->s->cfg.poll_timeout;
	uint64_t since;
	int has_timeout = query_timeout(req, &timeout);
	int has_since = query_since(req, &since);
	int found = query_name(req, name);
	if (found <= 0 || has_timeout < 0 || has_since < 0) {
		respond_no_message(c, 400, found <= 0 ? "missing or bad name"
		                         : has_timeout < 0 ? "bad timeout" : "bad since");
		return;
	}
	if (timeout > c->s->cfg.poll_timeout)
		timeout = c->s->cfg.poll_timeout;
	srv_client *client = get_msg_client(c, name, has_since > 0 ? &since : NULL);
	if (client == NULL)
		return;
	/* Earlier pipelined answers go out before this thread blocks. */
	if (c->out.len > 0 && !srv_flush(c)) {
		srv_client_release(c->s->registry, client);
		c->keep_alive = false;
		return;
	}
	srv_client_note_poll(client, timeout);
	take_and_answer(c, client, timeout);
	srv_client_release(c->s->registry, client);
}

/*
 * For the handshake lab on ws.html: the Sec-WebSocket-Accept this server
 * answers for ?key=, computed by the same code as a real upgrade, so the
 * page can check its own SubtleCrypto result against the server's.
 */
static void
view_ws_accept(srv_conn *c, const http_request *req)
{
	char key[64], accept[29];
	long n = http_form_value(req->query, strlen(req->query), "key", key, sizeof(key));
	if (n <= 0 || !ws_key_valid(key) || !ws_accept_key(key, accept)) {
		respond_no_message(c, 400, "key must be 16 bytes in base64 (24 characters)");
		return;
	}
	http_buf json = { 0 };
	http_buf_printf(&json, "{\"key\":\"%s\",\"guid\":\"%s\",\"accept\":\"%s\"}",
	                key, WS_GUID, accept);
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

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

/* /stats, or /stats?name=N for client N alone (a page checks its name). */
static void
view_stats(srv_conn *c, const http_request *req)
{
	srv *s = c->s;
	char name[SRV_NAME_MAX + 1];
	int only = query_name(req, name);
	if (only < 0) {
		respond_no_message(c, 400, "bad name");
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
	                "\"poll_timeout\":%g,\"client_count\":%zu,\"clients\":",
	                srv_monotonic() - s->started, srv_open_conns(s),
	                (unsigned long long)atomic_load(&s->total_conns), thread_count(),
	                (unsigned long long)counts.sent, (unsigned long long)counts.delivered,
	                (unsigned long long)counts.dropped, (unsigned long long)counts.missed,
	                (unsigned long long)counts.last_id, counts.history, s->cfg.history,
	                s->cfg.queue_size, s->cfg.poll_timeout, counts.clients);
	srv_registry_clients_json(s->registry, &json, only > 0 ? name : NULL);
	size_t lab_queues;
	long lab_blocked;
	srv_lab_counts(s->lab, &lab_queues, &lab_blocked);
	http_buf_printf(&json, ",\"lab\":{\"queues\":%zu,\"max_queues\":%d,\"blocked\":%ld,"
	                "\"max_blocked\":%d}", lab_queues, SRV_LAB_MAX_QUEUES, lab_blocked,
	                SRV_LAB_MAX_BLOCKED);
	http_buf_puts(&json, ",\"redis\":");
	srv_bridge_stats_json(s, &json);
	http_buf_puts(&json, "}");
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

static void
view_ws_echo(srv_conn *c, const http_request *req)
{
	srv_ws_serve(c, req, NULL, NULL);
}

static void
view_ws_chat(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	uint64_t since;
	int has_since = query_since(req, &since);
	if (query_name(req, name) <= 0)
		respond_text(c, 400, "the chat needs ?name= (at most 64 bytes, valid %-escapes)\n");
	else if (has_since < 0)
		respond_text(c, 400, "?since= must be a message id (decimal digits)\n");
	else
		srv_ws_serve(c, req, name, has_since > 0 ? &since : NULL);
}

/*
 * Server-Sent Events.  The browser's EventSource sends the last id it saw
 * as Last-Event-ID when it reconnects by itself; that header, newer than
 * the URL, wins over ?since=.
 */
static void
view_events(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	uint64_t since;
	int has_since = query_since(req, &since);
	const char *last_event_id = http_header(req, "Last-Event-ID");
	if (last_event_id != NULL && *last_event_id != '\0')
		has_since = http_parse_event_id(last_event_id, &since) ? 1 : -1;
	if (query_name(req, name) <= 0)
		respond_text(c, 400, "/events needs ?name= (at most 64 bytes, valid %-escapes)\n");
	else if (has_since < 0)
		respond_text(c, 400, "Last-Event-ID and ?since= must be a message id (decimal digits)\n");
	else
		srv_sse_serve(c, name, has_since > 0 ? &since : NULL);
}

/* ------------------------------------------------------------------ */
/* The route table                                                     */
/* ------------------------------------------------------------------ */

/* The methods a route takes, one bit each. */
#define M_GET  (1u << HTTP_GET)
#define M_HEAD (1u << HTTP_HEAD)
#define M_POST (1u << HTTP_POST)

typedef void view_fn(srv_conn *c, const http_request *req);

typedef struct {
	const char *path;      /* also matches with a trailing slash */
	unsigned methods;
	view_fn *view;
} route;

static const route routes[] = {
	{ "/ab_dy",      M_GET | M_HEAD | M_POST, view_ab_dy },
	{ "/ab_b1",      M_GET | M_HEAD,          view_ab_b1 },
	{ "/send_msg",   M_POST,                  view_send_msg },
	{ "/get_msg",    M_GET | M_HEAD,          view_get_msg },
	{ "/stats",      M_GET | M_HEAD,          view_stats },
	{ "/ws",         M_GET,                   view_ws_chat },
	{ "/ws/echo",    M_GET,                   view_ws_echo },
	{ "/ws/accept",  M_GET | M_HEAD,          view_ws_accept },
	{ "/events",     M_GET,                   view_events },
	{ "/lab/new",    M_POST,                  srv_view_lab_new },
	{ "/lab/state",  M_GET | M_HEAD,          srv_view_lab_state },
	{ "/lab/put",    M_POST,                  srv_view_lab_put },
	{ "/lab/get",    M_POST,                  srv_view_lab_get },
	{ "/lab/task_done", M_POST,               srv_view_lab_task_done },
	{ "/lab/join",   M_POST,                  srv_view_lab_join },
	{ "/lab/shutdown", M_POST,                srv_view_lab_shutdown },
	{ "/lab/delete", M_POST,                  srv_view_lab_delete },
};

/* Any other path: a file under --www. */
static const route static_files = { "/", M_GET | M_HEAD, srv_serve_static };

static const route *
find_route(const http_request *req)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (path_is(req, routes[i].path))
			return &routes[i];
	return &static_files;
}

/* 405, with the route's methods in Allow (RFC 9110 section 15.5.6). */
static void
respond_not_allowed(srv_conn *c, unsigned methods)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Allow: %s%s%s\r\n",
	         methods & M_GET ? "GET" : "",
	         methods & M_HEAD ? ", HEAD" : "",
	         methods & M_POST ? (methods & M_GET ? ", POST" : "POST") : "");
	srv_respond_status(c, 405, extra);
}

void
srv_route(srv_conn *c, const http_request *req)
{
	const route *r = find_route(req);
	if ((r->methods & (1u << req->method)) == 0)
		respond_not_allowed(c, r->methods);
	else
		r->view(c, req);
}
