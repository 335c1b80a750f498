/* params.c - names and ids read from requests (see params.h). */
#include "server/core/params.h"

#include <string.h>

int
srv_form_name(const char *form, size_t len, char name[SRV_NAME_MAX + 1])
{
	long n = http_form_value(form, len, "name", name, SRV_NAME_MAX + 1);
	if (n == -2 || (n > 0 && strlen(name) != (size_t)n))
		return -1;
	return n > 0 ? 1 : 0;
}

int
srv_query_name(const http_request *req, char name[SRV_NAME_MAX + 1])
{
	return srv_form_name(req->query, strlen(req->query), name);
}

int
srv_query_since(const http_request *req, uint64_t *out)
{
	char text[24];
	long n = http_form_value(req->query, strlen(req->query), "since", text, sizeof(text));
	if (n == -1)
		return 0;
	return n > 0 && http_parse_event_id(text, out) ? 1 : -1;
}
