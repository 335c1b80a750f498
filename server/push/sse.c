/*
 * sse.c - GET /events: Server-Sent Events, the fourth way to push.
 *
 * DESIGN (thread-per-connection, as /get_msg): the connection's thread
 * answers 200 text/event-stream, then loops exactly like a long poll that
 * never answers "nothing": it blocks in its client's queue
 * (srv_client_next), writes each message as one event -- "id: ID", the
 * /get_msg JSON as "data:", a blank line -- and blocks again.  The browser's
 * EventSource reconnects by itself after a cut and sends the last id it saw
 * as Last-Event-ID: that is a resume (resume.h).
 *
 *   - The socket is parked at the watcher (watch.h) for the whole stream, so
 *     a client that hangs up frees the thread at once.
 *   - A comment line every --sse-heartbeat seconds (15 by default) keeps
 *     proxies from closing a quiet stream, and finds a dead peer.
 *   - With tokens, the stream ends when its token does (a comment says so):
 *     the browser reconnects with a new token and resumes, losing nothing.
 *   - SIGTERM shuts the queues down: the take returns at once and the stream
 *     ends.  A write never waits past the stop (srv_send_all, conn.h).
 *   - A client that reads nothing fills its socket, then its bounded queue:
 *     drops are counted as for anyone, and after SRV_SEND_TIMEOUT seconds of
 *     no progress the stream is closed.  Nobody else waits for it: a
 *     broadcast only puts into queues.
 *
 * The body has no Content-Length: it ends when the connection closes
 * (RFC 9112 section 6.3), so the connection is not reused.
 */
#include "server/push/sse.h"
#include "server/core/answer.h"
#include "server/core/params.h"
#include "server/core/reader.h"
#include "server/room/delivery.h"
#include "server/room/resume.h"

#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

/* How long the browser waits before it reconnects, in milliseconds. */
#define SSE_RETRY_MS 2000

/* The head, the retry time and a first comment, in one write. */
static bool
start_stream(srv_conn *c, const char *name, long missed_at_start)
{
	char date[32];
	http_date(time(NULL), date);
	c->status = 200;
	http_buf_printf(&c->out, "HTTP/1.1 200 OK\r\nServer: pushq\r\nDate: %s\r\n"
	                "Content-Type: text/event-stream; charset=utf-8\r\n"
	                "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
	                "Connection: close\r\n\r\nretry: %d\n", date, SSE_RETRY_MS);
	char comment[128];
	snprintf(comment, sizeof(comment), "pushq stream for %s; %ld missed before it",
	         name, missed_at_start);
	http_sse_comment_append(&c->out, comment);
	bool ok = !c->out.failed && srv_send_all(c->s, c->fd, c->out.data, c->out.len);
	c->out.len = 0;
	return ok;
}

/* One message as one event; gives it back if it cannot be written. */
static bool
send_event(srv_conn *c, srv_client *client, srv_delivery *d, http_buf *scratch)
{
	scratch->len = 0;
	srv_delivery_append(scratch, d);
	bool ok = !scratch->failed && srv_send_all(c->s, c->fd, scratch->data, scratch->len);
	if (ok)
		srv_delivery_done(d);
	else
		srv_client_give_back_delivery(c->s->registry, client, d);   /* not lost */
	return ok;
}

/* How long the next wait may be: the heartbeat, or less when the token
 * ends sooner (expires: seconds since 1970, 0: never).  Negative: it has
 * ended. */
static double
next_wait(const srv *s, double expires)
{
	if (expires == 0)
		return s->cfg.sse_heartbeat;
	double left = expires - srv_auth_now();
	return left < s->cfg.sse_heartbeat ? left : s->cfg.sse_heartbeat;
}

static void
stream(srv_conn *c, srv_client *client, const atomic_bool *hung_up, double expires)
{
	srv *s = c->s;
	http_buf event = { 0 };
	for (;;) {
		double wait = next_wait(s, expires);
		if (wait <= 0) {           /* the token ended: the browser reconnects with a new one */
			event.len = 0;
			http_sse_comment_append(&event, "token expired");
			srv_send_all(c->s, c->fd, event.data, event.len);
			break;
		}
		srv_delivery d;
		queue_rc rc = srv_client_next(s->registry, client, wait, hung_up, SRV_WIRE_SSE, &d);
		if (rc == QUEUE_OK) {
			if (!send_event(c, client, &d, &event))
				break;
		} else if (rc == QUEUE_EMPTY) {
			event.len = 0;
			http_sse_comment_append(&event, "keep-alive");
			if (!srv_send_all(c->s, c->fd, event.data, event.len))
				break;
		} else {
			break;     /* shutdown, or the client hung up */
		}
	}
	http_buf_free(&event);
}

static void
serve_stream(srv_conn *c, const http_request *req, const char *name, const uint64_t *since)
{
	srv *s = c->s;
	srv_who who;
	srv_client *client = srv_reader_join(c, req, name, SRV_CLIENT_SSE, &who);
	if (client == NULL)
		return;
	long missed = since != NULL ? srv_client_resume(s->registry, client, *since) : 0;
	if (!srv_conn_take_over(c)) {   /* the stream owns the connection now */
		srv_client_release(s->registry, client);
		return;
	}
	if (start_stream(c, name, missed)) {
		const atomic_bool *hung_up = srv_watch_park(s->watch, c->fd, client);
		srv_presence_begin(&s->presence, client, SRV_CLIENT_SSE);
		stream(c, client, hung_up, srv_auth_expires(&who));
		srv_presence_end(&s->presence, client, SRV_CLIENT_SSE);
		if (hung_up != NULL)
			srv_watch_unpark(s->watch, c->fd);
	}
	srv_client_release(s->registry, client);
}

/*
 * The browser's EventSource sends the last id it saw as Last-Event-ID when
 * it reconnects by itself; that header, newer than the URL, wins over
 * ?since=.
 */
void
srv_view_events(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	uint64_t since;
	int has_since = srv_query_since(req, &since);
	const char *last_event_id = http_header(req, "Last-Event-ID");
	if (last_event_id != NULL && *last_event_id != '\0')
		has_since = http_parse_event_id(last_event_id, &since) ? 1 : -1;
	if (srv_query_name(req, name) <= 0)
		srv_answer_text(c, 400, "/events needs ?name= (at most 64 bytes, valid %-escapes)\n");
	else if (has_since < 0)
		srv_answer_text(c, 400, "Last-Event-ID and ?since= must be a message id (decimal digits)\n");
	else
		serve_stream(c, req, name, has_since > 0 ? &since : NULL);
}
