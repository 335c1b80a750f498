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

int
srv_form_channel(const char *form, size_t len, const char *key, char *out)
{
	long n = http_form_value(form, len, key, out, SRV_CHANNEL_MAX + 1);
	if (n == -1)
		return 0;
	return n > 0 && srv_channel_name_valid(out, strlen(out)) && strlen(out) == (size_t)n ? 1 : -1;
}

int
srv_form_channels(const char *form, size_t len, const char *key, long limit,
                  srv_channel_list *out, const char **error)
{
	/* Room for the most names there can be, with their commas. */
	char text[SRV_CHANNELS_PER_CLIENT_MAX * (SRV_CHANNEL_MAX + 1) + 2];
	long n = http_form_value(form, len, key, text, sizeof(text));
	if (n == -1)
		return 0;
	*error = SRV_BAD_CHANNEL;
	if (n < 0 || strlen(text) != (size_t)n)
		return -1;
	out->n = 0;
	for (const char *p = text;; p++) {
		const char *comma = strchr(p, ',');
		size_t name_len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (!srv_channel_name_valid(p, name_len)) {
			*error = SRV_BAD_CHANNEL;
			return -1;
		}
		if ((long)out->n >= limit || out->n >= SRV_CHANNELS_PER_CLIENT_MAX) {
			*error = SRV_TOO_MANY_FOR_CLIENT;
			return -1;
		}
		memcpy(out->names[out->n], p, name_len);
		out->names[out->n++][name_len] = '\0';
		if (comma == NULL)
			return 1;
		p = comma;
	}
}

int
srv_query_channels(const http_request *req, long limit, srv_channel_list *out,
                   const char **error)
{
	return srv_form_channels(req->query, strlen(req->query), "channels", limit, out, error);
}
