/*
 * sse.c - GET /events: Server-Sent Events, the fourth way to push.
 *
 * DESIGN (thread-per-connection, as /ws): the connection's thread answers
 * 200 text/event-stream, then each message is written as one event --
 * "id: ID", the /get_msg JSON as "data:", a blank line -- by the thread
 * that broadcast it, straight into the socket, exactly as a WebSocket's
 * frames are (the stream's outbox, outbox.h, attached as SSE events).  No
 * thread is woken for an event; only a socket that fills up (a client
 * reading slower than messages come) gets a writer thread, which drains
 * the queue as the socket takes more.  The browser's EventSource
 * reconnects by itself after a cut and sends the last id it saw as
 * Last-Event-ID: that is a resume (resume.h).
 *
 * The connection's own thread meanwhile sleeps in poll() on its socket and
 * the server's stop_fd, and wakes only for what is not a message:
 *   - a client that hangs up (the socket reads as closed, or a write
 *     failed and shut it down) frees the thread at once;
 *   - a comment line after --sse-heartbeat seconds (15 by default) with
 *     nothing written keeps proxies from closing a quiet stream, and finds
 *     a dead peer;
 *   - with tokens, the stream ends when its token does (a comment says so):
 *     the browser reconnects with a new token and resumes, losing nothing;
 *   - SIGTERM (stop_fd) ends the stream at once.  A write never waits past
 *     the stop (srv_send_all, conn.h).
 * A client that reads nothing fills its socket, then its bounded queue:
 * drops are counted as for anyone, and the next heartbeat, which waits for
 * room at most SRV_SEND_TIMEOUT seconds, closes the stream.  Nobody else
 * waits for it: a broadcast only puts into queues and tries a write.
 *
 * The body has no Content-Length: it ends when the connection closes
 * (RFC 9112 section 6.3), so the connection is not reused.
 */
#include "server/push/sse.h"
#include "server/core/answer.h"
#include "server/core/params.h"
#include "server/core/reader.h"
#include "server/push/outbox.h"
#include "server/room/resume.h"
#include "server/common/clock.h"

#include <errno.h>
#include <poll.h>
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

/* Writes one comment line ("TEXT"), which may wait for room, after what
 * is left of an event; false when the stream is over. */
static bool
send_comment(outbox *out, const char *text)
{
	http_buf comment = { 0 };
	http_sse_comment_append(&comment, text);
	outbox_lock(out);
	bool ok = !comment.failed && outbox_send_locked(out, comment.data, comment.len);
	outbox_unlock(out);
	http_buf_free(&comment);
	return ok;
}

/* Seconds until the next heartbeat is due: --sse-heartbeat after the last
 * bytes written (an event or a comment); <= 0: now. */
static double
until_heartbeat(const srv *s, outbox *out)
{
	outbox_lock(out);
	double last_write = out->last_write;
	outbox_unlock(out);
	return last_write + s->cfg.sse_heartbeat - srv_monotonic();
}

/* Seconds until the token ends (expires: seconds since 1970; 0: never,
 * which is asked again in an hour); <= 0: it has ended. */
static double
until_expiry(double expires)
{
	return expires == 0 ? 3600 : expires - srv_auth_now();
}

/* Reads and drops what the client sends (nothing, usually).  False when
 * the socket is closed: the client hung up, or a write failed. */
static bool
peer_still_there(int fd)
{
	char sink[256];
	ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

/* The connection's thread while the outbox writes the events: heartbeats,
 * the token's end, a hang-up, the stop. */
static void
watch_stream(srv_conn *c, outbox *out, double expires)
{
	srv *s = c->s;
	for (;;) {
		double to_expiry = until_expiry(expires);
		if (to_expiry <= 0) {          /* the browser reconnects with a new token */
			send_comment(out, "token expired");
			return;
		}
		double wait = until_heartbeat(s, out);
		if (wait <= 0) {
			if (!send_comment(out, "keep-alive"))
				return;
			continue;
		}
		if (to_expiry < wait)
			wait = to_expiry;
		if (wait > 3600)
			wait = 3600;                   /* poll() counts in an int of ms */
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
		                       { .fd = s->stop_fd, .events = POLLIN } };
		int ready = poll(p, 2, (int)(wait * 1000) + 1);
		if (ready < 0 && errno != EINTR)
			return;
		if (ready > 0 && p[1].revents)
			return;                        /* the server stops */
		if (ready > 0 && (p[0].revents & (POLLHUP | POLLERR)))
			return;                        /* reset, or shut down after a failed write */
		if (ready > 0 && (p[0].revents & POLLIN) && !peer_still_there(c->fd))
			return;
	}
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
		outbox out;
		outbox_init(&out, s, c->fd);
		outbox_attach(&out, client, SRV_WIRE_SSE, SRV_CLIENT_SSE, NULL);
		srv_presence_begin(&s->presence, client, SRV_CLIENT_SSE);
		watch_stream(c, &out, srv_auth_expires(&who));
		srv_presence_end(&s->presence, client, SRV_CLIENT_SSE);
		outbox_detach(&out);
		outbox_free(&out);
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
