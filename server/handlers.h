/*
 * handlers.h - the code that answers a request on a connection.
 *
 *   router.c      srv_route: the route table (path, methods, view) and the
 *                 tutorial's views
 *   static.c      files under --www
 *   ws_session.c  WebSocket sessions (echo and chat)
 *   sse.c         Server-Sent Events streams (/events)
 *   lab_http.c    the queue lab's API (/lab/...), on lab.h's queues
 *
 * Every function here runs on the connection's own thread and appends its
 * answer to c->out (conn.h); the connection thread writes it.  A WebSocket
 * session instead takes the connection over (c->taken_over) until it ends.
 */
#ifndef PUSHQ_HANDLERS_H
#define PUSHQ_HANDLERS_H

#include "server/conn.h"

/* Answers one request: finds its route, answers 405 with Allow for a method
 * the route does not take, else runs the route's view (router.c). */
void srv_route(srv_conn *c, const http_request *req);

/* Serves the file the request's path names under --www, for GET and HEAD:
 * 200, or 400/403/404/414 (static.c). */
void srv_serve_static(srv_conn *c, const http_request *req);

/* Serves one named file under --www (static.c), e.g. the chat page. */
void srv_serve_file(srv_conn *c, const char *relative_path);

/*
 * Opens `path` (relative, e.g. "./css/a.css") beneath the directory root_fd,
 * read-only and non-blocking, refusing any symlink and any way above the
 * root (static.c).  Uses openat2 where the kernel has it; walk_only forces
 * the component-by-component walk used elsewhere (for its test).  Returns
 * a descriptor, or -1 with errno set (ELOOP for a symlink).
 */
int srv_open_beneath(int root_fd, const char *path, bool walk_only);

/*
 * Answers a WebSocket upgrade and runs the session to its end
 * (ws_session.c).  chat_name NULL: the echo service (/ws/echo); otherwise
 * the chat as client chat_name (a valid name, parsed by the router).
 * since: NULL, or the id the client has seen everything up to (a resume,
 * registry.h).
 */
void srv_ws_serve(srv_conn *c, const http_request *req, const char *chat_name,
                  const uint64_t *since);

/*
 * Streams client `name`'s messages as Server-Sent Events until the client
 * leaves or the server stops (sse.c).  since: as for srv_ws_serve (from
 * Last-Event-ID or ?since=).
 */
void srv_sse_serve(srv_conn *c, const char *name, const uint64_t *since);

/* The queue lab (lab_http.c; docs/api.md, "The queue lab"): one view per
 * call, routed by router.c. */
void srv_view_lab_new(srv_conn *c, const http_request *req);
void srv_view_lab_state(srv_conn *c, const http_request *req);
void srv_view_lab_put(srv_conn *c, const http_request *req);
void srv_view_lab_get(srv_conn *c, const http_request *req);
void srv_view_lab_task_done(srv_conn *c, const http_request *req);
void srv_view_lab_join(srv_conn *c, const http_request *req);
void srv_view_lab_shutdown(srv_conn *c, const http_request *req);
void srv_view_lab_delete(srv_conn *c, const http_request *req);

#endif
