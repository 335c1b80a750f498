/* route.c - matching a route and answering 405 (see route.h). */
#include "server/core/route.h"

#include <stdio.h>
#include <string.h>

bool
srv_route_matches(const srv_route *r, const char *path, size_t len)
{
	size_t n = strlen(r->path);
	return len >= n && strncmp(path, r->path, n) == 0 &&
	       (len == n || (len == n + 1 && path[n] == '/'));
}

void
srv_route_allow(unsigned methods, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s",
	         methods & SRV_M_GET ? "GET" : "",
	         methods & SRV_M_HEAD ? ", HEAD" : "",
	         methods & SRV_M_POST ? (methods & SRV_M_GET ? ", POST" : "POST") : "");
}

void
srv_route_run(const srv_route *r, srv_conn *c, const http_request *req)
{
	if ((r->methods & (1u << req->method)) != 0) {
		r->view(c, req);
		return;
	}
	char allow[32], extra[48];
	srv_route_allow(r->methods, allow, sizeof(allow));
	snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
	srv_respond_status(c, 405, extra);
}
