/*
 * conn.h - one client connection, as seen by the code that answers it
 * (router.c, static.c, and the WebSocket code).
 *
 * A srv_conn belongs to its connection thread: nothing here is shared, so
 * nothing here locks.  Responses are appended to `out` and written by
 * srv_flush(), so the answers to pipelined requests leave in one write.
 */
#ifndef PUSHQ_CONN_H
#define PUSHQ_CONN_H

#include "server/server.h"

#define SRV_READ_SIZE 16384
#define SRV_OUT_KEEP 1024     /* output buffer kept between answers, bytes */

typedef struct {
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
	bool taken_over;          /* a WebSocket session ran: no more HTTP */
} srv_conn;

/*
 * Appends a whole response: head (with Date, Content-Length, Connection)
 * and, unless the request was HEAD, the body.  `extra` is NULL or more
 * header lines, each ending in "\r\n".
 */
void srv_respond(srv_conn *c, int status, const char *content_type,
                 const void *body, size_t len, const char *extra);

/* Only the head of a response whose body is `len` bytes (sent apart). */
void srv_respond_head(srv_conn *c, int status, const char *content_type,
                      size_t len, const char *extra);

/* A plain-text answer that only says its status: "404 Not Found\n". */
void srv_respond_status(srv_conn *c, int status, const char *extra);

/* Same, for a JSON body. */
void srv_respond_json(srv_conn *c, int status, const http_buf *json);

/* Writes everything in c->out.  False when the peer is gone. */
bool srv_flush(srv_conn *c);

/* Sends all of data; false on error or SRV_SEND_TIMEOUT. */
bool srv_send_all(int fd, const void *data, size_t len);

/* True when the peer has closed its side (checked without waiting). */
bool srv_peer_closed(int fd);

/* Answers one request (router.c). */
void srv_route(srv_conn *c, const http_request *req);

/* Answers a WebSocket upgrade and runs the session to its end
 * (ws_session.c): echo on /ws/echo, the chat on /ws?name=. */
void srv_ws_serve(srv_conn *c, const http_request *req, bool chat);

/* The ?name= of a request into name[SRV_NAME_MAX + 1]: 1 found, 0 absent
 * or empty, -1 malformed or too long (router.c). */
int srv_query_name(const http_request *req, char name[SRV_NAME_MAX + 1]);

/* Serves a file under --www for GET/HEAD (static.c). */
void srv_serve_static(srv_conn *c, const http_request *req);

/* Serves one named file under --www (static.c), e.g. the chat page. */
void srv_serve_file(srv_conn *c, const char *relative_path);

#endif
