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
	static const struct { unsigned bit; const char *name; } all[] = {
		{ SRV_M_GET, "GET" }, { SRV_M_HEAD, "HEAD" }, { SRV_M_POST, "POST" },
	};
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if ((methods & all[i].bit) == 0 || used >= cap)
			continue;
		int n = snprintf(out + used, cap - used, "%s%s", used > 0 ? ", " : "", all[i].name);
		used += n > 0 ? (size_t)n : 0;
	}
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

const int srv_status_codes[SRV_STATUS_SLOTS - 1] = {
	101, 200, 201, 204, 302, 304, 400, 401, 403, 404, 405, 408, 413, 414, 426, 429, 431,
	500, 501, 503, 0, 0, 0,
};

int
srv_status_slot(int status)
{
	for (int i = 0; i < SRV_STATUS_SLOTS - 1 && srv_status_codes[i] != 0; i++)
		if (srv_status_codes[i] == status)
			return i;
	return SRV_STATUS_SLOTS - 1;
}
