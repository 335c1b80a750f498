/*
 * static.h - files under --www, for GET and HEAD (static.c): the pages,
 * their scripts and styles.  Never a path outside --www, never a symlink.
 */
#ifndef PUSHQ_STATIC_H
#define PUSHQ_STATIC_H

#include "server/core/conn.h"

#include <stdbool.h>

/* Serves the file the request's path names under --www, for GET and HEAD:
 * 200, or 400/403/404/414. */
void srv_serve_static(srv_conn *c, const http_request *req);

/* Serves one named file under --www, e.g. the chat page. */
void srv_serve_file(srv_conn *c, const char *relative_path);

/*
 * Opens `path` (relative, e.g. "./css/a.css") beneath the directory root_fd,
 * read-only and non-blocking, refusing any symlink and any way above the
 * root.  Uses openat2 where the kernel has it; walk_only forces the
 * component-by-component walk used elsewhere (for its test).  Returns a
 * descriptor, or -1 with errno set (ELOOP for a symlink).
 */
int srv_open_beneath(int root_fd, const char *path, bool walk_only);

#endif
