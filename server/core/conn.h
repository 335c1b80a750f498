/*
 * conn.h - one client connection: its thread, its buffers, and the calls
 * that answer on it (used by every view: routes.c and what it routes to).
 *
 * A srv_conn belongs to its connection thread: nothing here is shared, so
 * nothing here locks.  Responses are appended to `out` and written by
 * srv_flush(), so the answers to pipelined requests leave in one write.
 */
#ifndef PUSHQ_CONN_H
#define PUSHQ_CONN_H

#include "server/core/server.h"

#define SRV_READ_SIZE 16384
#define SRV_OUT_KEEP 1024     /* output buffer kept between answers, bytes */
/* Answers to pipelined requests wait in `out` to leave in one write, but
 * never more than this: past it they are written before the next request
 * is parsed, so a connection's memory is bounded whatever it sends (at
 * most this plus one answer, and an answer's body above
 * SRV_OUT_PENDING_MAX goes by sendfile). */
#define SRV_OUT_PENDING_MAX (64 * 1024)

typedef struct srv_conn {
	srv *s;
	int fd;
	http_parser *parser;
	char *in;                 /* SRV_READ_SIZE bytes read, not yet parsed */
	size_t in_len, in_off;
	http_buf out;             /* response bytes not yet written */
	char date[32];            /* Date: value, remade once a second */
	time_t date_second;
	bool head_only;           /* the request is HEAD: no body in answers */
	bool keep_alive;          /* keep the connection after this answer */
	bool taken_over;          /* srv_conn_take_over ran: no more HTTP */
	int status;               /* the last answer's status (for /metrics) */
	const char *forwarded_for; /* this request's X-Forwarded-For, or NULL */
	const char *cors_origin;  /* this request's Origin, when it is allowed:
	                             every answer to it carries CORS headers */
} srv_conn;

/*
 * Appends a whole response: head (with Date, Content-Length, Connection)
 * and, unless the request was HEAD, the body.  `extra` is NULL or more
 * header lines, each ending in "\r\n".
 */
void srv_respond(srv_conn *c, int status, const char *content_type,
                 const void *body, size_t len, const char *extra);

/*
 * As srv_respond, but the body is not copied into c->out: what c->out
 * holds (earlier pipelined answers, then this head) and the body leave now,
 * in one writev.  For bodies that live elsewhere, e.g. a file in memory
 * (file_cache.h); body need only stay valid during the call.  False when
 * the peer is gone (keep_alive is then off).
 */
bool srv_respond_now(srv_conn *c, int status, const char *content_type,
                     const void *body, size_t len);

/* Only the head of a response whose body is `len` bytes (sent apart). */
void srv_respond_head(srv_conn *c, int status, const char *content_type,
                      size_t len, const char *extra);

/* A plain-text answer that only says its status: "404 Not Found\n". */
void srv_respond_status(srv_conn *c, int status, const char *extra);

/* Same, for a JSON body. */
void srv_respond_json(srv_conn *c, int status, const http_buf *json);

/* Writes everything in c->out.  False when the peer is gone. */
bool srv_flush(srv_conn *c);

/* Sends all of data, waiting for room in the socket as needed; false on
 * an error, after SRV_SEND_TIMEOUT seconds without progress, or when the
 * server stops while it waits (so a client that reads nothing never holds
 * a thread past SIGTERM). */
bool srv_send_all(srv *s, int fd, const void *data, size_t len);

/* Waits until fd can take more bytes: false after SRV_SEND_TIMEOUT seconds,
 * or at once when the server stops. */
bool srv_wait_writable(srv *s, int fd);

/* True when the peer has closed its side (checked without waiting). */
bool srv_peer_closed(int fd);

/*
 * A handler takes the connection over from HTTP for the rest of its life
 * (a WebSocket after its 101, an SSE stream): no more requests are read
 * on it, the HTTP parser's memory goes back, and the connection is closed
 * when the handler returns.  Writes what is waiting in c->out (the 101, or
 * answers to earlier pipelined requests); false when the peer is gone.
 * Bytes already read past the request stay in c->in (in_off..in_len).
 */
bool srv_conn_take_over(srv_conn *c);

/*
 * For a connection taken over: replaces the read buffer, once its last
 * bytes have been used, by one of `size` bytes -- a long-lived session
 * needs less than a request does.  Returns it, or NULL (out of memory;
 * the old one is freed anyway).
 */
char *srv_conn_shrink_input(srv_conn *c, size_t size);

/* Who is at the other end, for a log line: the peer's address, or with
 * --trust-proxy the last address in X-Forwarded-For (what the proxy in
 * front saw).  Into out[cap]. */
void srv_conn_peer(const srv_conn *c, char *out, size_t cap);

/*
 * The thread of one accepted connection (started by server.c): reads
 * requests, hands each to the server's route (s->route), writes the answers, and
 * closes the socket at the end.  Takes ownership of `conn`, a calloc'ed
 * srv_conn with only `s` and `fd` set, and counts itself out with
 * srv_conn_closed() as its last act.
 */
void *srv_conn_main(void *conn);

#endif
