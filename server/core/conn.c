/*
 * conn.c - the life of one connection thread: read, parse, answer, repeat.
 *
 *   for each request:
 *     wait for bytes (poll on the socket and on the server's stop_fd),
 *       408 if the request is too slow or the connection idles too long;
 *     feed them to the parser; on a whole request, route it;
 *     write the answers once no complete request is left in the buffer.
 */
#include "server/core/conn.h"
#include "http/ws.h"
#include "server/common/clock.h"
#include "server/common/thread.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

bool
srv_wait_writable(srv *s, int fd)
{
	for (;;) {
		struct pollfd ready[2] = { { .fd = fd, .events = POLLOUT },
		                           { .fd = s->stop_fd, .events = POLLIN } };
		int r = poll(ready, 2, SRV_SEND_TIMEOUT * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		return r > 0 && ready[1].revents == 0;
	}
}

bool
srv_send_all(srv *s, int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ||
		           !srv_wait_writable(s, fd)) {
			return false;
		}
	}
	return true;
}

bool
srv_flush(srv_conn *c)
{
	if (c->out.failed) {
		c->out.len = 0;
		c->out.failed = false;
		return false;        /* an answer could not be built: give up */
	}
	bool ok = srv_send_all(c->s, c->fd, c->out.data, c->out.len);
	c->out.len = 0;
	/* A page-sized answer grew the buffer: give that memory back rather
	 * than keep it for the (long) life of an idle connection. */
	if (c->out.cap > SRV_OUT_KEEP)
		http_buf_free(&c->out);
	return ok;
}

bool
srv_peer_closed(int fd)
{
	/* One non-blocking peek: 0 means the peer sent its FIN (or reset);
	 * data or EAGAIN means it is still there. */
	char byte;
	ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static const char *
date_now(srv_conn *c)
{
	time_t now = time(NULL);
	if (now != c->date_second) {
		c->date_second = now;
		http_date(now, c->date);
	}
	return c->date;
}

void
srv_respond_head(srv_conn *c, int status, const char *content_type,
                 size_t len, const char *extra)
{
	if (atomic_load(&c->s->stopping))
		c->keep_alive = false;
	c->status = status;
	char cors[640];
	if (c->cors_origin != NULL) {    /* an allowed origin: say so (never "*") */
		snprintf(cors, sizeof(cors), "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n%s",
		         c->cors_origin, extra != NULL ? extra : "");
		extra = cors;
	}
	http_response_head(&c->out, status, date_now(c), content_type, len,
	                   c->keep_alive, extra);
}

void
srv_respond(srv_conn *c, int status, const char *content_type,
            const void *body, size_t len, const char *extra)
{
	srv_respond_head(c, status, content_type, len, extra);
	if (!c->head_only)
		http_buf_append(&c->out, body, len);
}

/* Sends all of iov[0..n) (n <= 2), waiting for room as srv_send_all does. */
static bool
send_all_iov(srv *s, int fd, struct iovec *iov, int n)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	while (msg.msg_iovlen > 0) {
		ssize_t sent = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0) {
			if (sent == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || !srv_wait_writable(s, fd))
				return false;
			continue;
		}
		/* Step past what left: whole iovecs, then part of the next. */
		size_t left = (size_t)sent;
		while (msg.msg_iovlen > 0 && left >= msg.msg_iov->iov_len) {
			left -= msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + left;
			msg.msg_iov->iov_len -= left;
		}
	}
	return true;
}

bool
srv_respond_now(srv_conn *c, int status, const char *content_type, const void *body, size_t len)
{
	srv_respond_head(c, status, content_type, len, NULL);
	if (c->head_only || c->out.failed)
		return srv_flush(c);
	struct iovec iov[2] = { { c->out.data, c->out.len }, { (void *)body, len } };
	bool ok = send_all_iov(c->s, c->fd, iov, 2);
	c->out.len = 0;
	if (c->out.cap > SRV_OUT_KEEP)
		http_buf_free(&c->out);
	if (!ok)
		c->keep_alive = false;
	return ok;
}

void
srv_respond_json(srv_conn *c, int status, const http_buf *json)
{
	srv_respond(c, status, "application/json", json->data, json->len, NULL);
}

void
srv_respond_status(srv_conn *c, int status, const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	srv_respond(c, status, "text/plain; charset=utf-8", body, (size_t)n, extra);
}

/* An error answer that ends the connection. */
static void
respond_error_and_close(srv_conn *c, int status)
{
	c->keep_alive = false;
	c->head_only = false;
	srv_respond_status(c, status, NULL);
}

bool
srv_conn_take_over(srv_conn *c)
{
	c->taken_over = true;
	c->keep_alive = false;
	http_parser_free(c->parser);    /* no more requests on it: ~4 KiB back */
	c->parser = NULL;
	return c->out.len == 0 || srv_flush(c);
}

char *
srv_conn_shrink_input(srv_conn *c, size_t size)
{
	free(c->in);               /* its touched page goes to the next connection */
	c->in = malloc(size);
	c->in_len = c->in_off = 0;
	return c->in;
}

void
srv_conn_peer(const srv_conn *c, char *out, size_t cap)
{
	if (c->s->cfg.trust_proxy && c->forwarded_for != NULL) {
		const char *last = strrchr(c->forwarded_for, ',');   /* the proxy's own hop */
		last = last != NULL ? last + 1 : c->forwarded_for;
		while (*last == ' ')
			last++;
		snprintf(out, cap, "%s", last);
		return;
	}
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	snprintf(out, cap, "?");
	if (getpeername(c->fd, (struct sockaddr *)&addr, &len) != 0)
		return;
	void *ip = addr.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&addr)->sin_addr
	                                      : (void *)&((struct sockaddr_in6 *)&addr)->sin6_addr;
	inet_ntop(addr.ss_family, ip, out, (socklen_t)cap);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

typedef enum { READ_OK, READ_CLOSED, READ_TIMEOUT, READ_STOP } read_result;

/* Waits until bytes arrive (or the deadline, or stop) and reads them. */
static read_result
read_more(srv_conn *c, double deadline)
{
	for (;;) {
		double left = deadline - srv_monotonic();
		if (left <= 0)
			return READ_TIMEOUT;
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
		                       { .fd = c->s->stop_fd, .events = POLLIN } };
		int ready = poll(p, 2, (int)(left * 1000) + 1);
		if (ready < 0 && errno != EINTR)
			return READ_CLOSED;
		if (p[1].revents)
			return READ_STOP;
		if (ready <= 0 || p[0].revents == 0)
			continue;
		ssize_t n = recv(c->fd, c->in, SRV_READ_SIZE, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return READ_CLOSED;
		c->in_len = (size_t)n;
		c->in_off = 0;
		return READ_OK;
	}
}

/*
 * Feeds buffered bytes to the parser and answers each whole request.
 * Returns false when the connection must close (after a final flush).
 */
static bool
answer_buffered(srv_conn *c)
{
	while (c->in_off < c->in_len) {
		if (c->out.len >= SRV_OUT_PENDING_MAX && !srv_flush(c))
			return false;        /* enough waits to be written: write it first */
		size_t used = 0;
		http_parse_result r = http_parser_feed(c->parser, c->in + c->in_off,
		                                       c->in_len - c->in_off, &used);
		c->in_off += used;
		if (r == HTTP_ERROR) {
			respond_error_and_close(c, http_parser_error_status(c->parser));
			return false;
		}
		if (r == HTTP_NEED_MORE)
			break;
		const http_request *req = http_parser_request(c->parser);
		c->head_only = req->method == HTTP_HEAD;
		c->keep_alive = req->keep_alive;
		c->cors_origin = NULL;
		c->forwarded_for = http_header(req, "X-Forwarded-For");
		c->s->route(c, req);
		if (c->taken_over)
			return false;        /* a session ran (and freed the parser) */
		http_parser_reset(c->parser);
		if (!c->keep_alive)
			return false;
	}
	return true;
}

/* The connection's whole life.  Returns when it is to be closed. */
static void
serve(srv_conn *c)
{
	double request_started = 0;  /* when the request being read began */
	for (;;) {
		bool keep_going = answer_buffered(c);
		if (keep_going && http_parser_take_continue(c->parser))
			http_buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		if (c->out.len > 0 && !srv_flush(c))
			return;
		if (!keep_going || atomic_load(&c->s->stopping))
			return;

		/* Inside a request, the request limit; between requests, idle. */
		double now = srv_monotonic();
		if (!http_parser_started(c->parser))
			request_started = 0;
		else if (request_started == 0)
			request_started = now;
		double deadline = request_started > 0 ? request_started + SRV_REQUEST_TIMEOUT
		                                      : now + SRV_IDLE_TIMEOUT;
		switch (read_more(c, deadline)) {
		case READ_OK:
			break;
		case READ_TIMEOUT:
			respond_error_and_close(c, 408);
			srv_flush(c);
			return;
		default:     /* closed by the peer, or the server is stopping */
			return;
		}
	}
}

void *
srv_conn_main(void *arg)
{
	srv_conn *c = arg;
	srv *s = c->s;
	srv_block_stop_signals();
	srv_sched_batch();
	c->parser = http_parser_new(s->cfg.max_body);
	c->in = malloc(SRV_READ_SIZE);    /* not calloc: see http_parser_new */
	if (c->parser != NULL && c->in != NULL)
		serve(c);
	close(c->fd);
	free(c->in);
	http_parser_free(c->parser);
	http_buf_free(&c->out);
	free(c);
	/* libcrypto's per-thread state (SHA-1 for a WebSocket handshake, HMAC
	 * and SHA-256 for tokens and the API key) goes now, not at thread exit,
	 * so a server that stops as soon as the last connection is counted out
	 * leaks nothing. */
	ws_thread_cleanup();
	srv_conn_closed(s);
	return NULL;
}
