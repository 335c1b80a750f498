/* reader.c - the client a request reads as (see reader.h). */
#include "server/core/reader.h"
#include "server/core/answer.h"
#include "server/core/params.h"

/* Reads channels= and checks the credentials.  False after answering. */
static bool
read_request(srv_conn *c, const http_request *req, const char *name, srv_channel_list *asked,
             bool *has_asked, srv_channel_list *fallback, bool *use_fallback, srv_who *who)
{
	const char *bad;
	int has = srv_query_channels(req, c->s->cfg.max_channels_per_client, asked, &bad);
	if (has < 0) {
		srv_answer_error(c, 400, bad);
		return false;
	}
	*has_asked = has > 0;
	return srv_auth_reader(c, req, name, *has_asked ? asked : NULL, fallback, use_fallback, who);
}

srv_client *
srv_reader_join(srv_conn *c, const http_request *req, const char *name, srv_client_kind kind,
                srv_who *who)
{
	srv_channel_list asked, fallback;
	bool has_asked, use_fallback;
	if (!read_request(c, req, name, &asked, &has_asked, &fallback, &use_fallback, who))
		return NULL;
	srv_join_rc why;
	srv_client *client = srv_registry_join_full(c->s->registry, name, kind,
	                                            has_asked ? &asked : NULL,
	                                            use_fallback ? &fallback : NULL, &why);
	if (client == NULL)
		srv_answer_join_failed(c, why);
	return client;
}

srv_client *
srv_reader_find(srv_conn *c, const http_request *req, const char *name, srv_who *who)
{
	srv_channel_list asked, fallback;
	bool has_asked, use_fallback;
	if (!read_request(c, req, name, &asked, &has_asked, &fallback, &use_fallback, who))
		return NULL;
	srv_registry *r = c->s->registry;
	srv_client *client = srv_registry_find(r, name);
	srv_sub_rc rc = SRV_SUB_OK;
	if (client == NULL)
		srv_answer_no_message(c, 404, "unknown client");
	else if (has_asked && (rc = srv_client_set_channels(r, client, &asked)) != SRV_SUB_OK)
		srv_answer_sub_failed(c, rc);
	if (rc != SRV_SUB_OK) {
		srv_client_release(r, client);
		client = NULL;
	}
	return client;
}
