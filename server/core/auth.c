/*
 * auth.c - tokens, the API key and origins (see auth.h).
 *
 * The API key is compared in constant time: both sides are hashed with
 * SHA-256 and the digests compared with CRYPTO_memcmp, so neither the
 * bytes nor the length of the key leak through timing.
 */
#include "server/core/auth.h"
#include "server/core/answer.h"
#include "server/common/log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

double
srv_auth_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* One refusal, logged once (what and why, never the token). */
static void
refuse(srv_conn *c, int status, const char *error, bool token_presented)
{
	char peer[64];
	srv_conn_peer(c, peer, sizeof(peer));
	srv_log(SRV_LOG_INFO, "auth: %d for %s: %s", status, peer, error);
	if (status != 401) {
		srv_answer_error(c, status, error);
		return;
	}
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":false,\"error\":");
	http_buf_json_string(&json, error, strlen(error));
	http_buf_puts(&json, "}");
	srv_respond(c, 401, "application/json", json.data, json.len,
	            token_presented ? "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"
	                            : "WWW-Authenticate: Bearer\r\n");
	http_buf_free(&json);
}

/* Whether `given` is the API key, in constant time. */
static bool
is_api_key(const srv_config *cfg, const char *given, size_t len)
{
	if (cfg->api_key_len == 0)
		return false;
	unsigned char a[32], b[32];
	unsigned int la = 0, lb = 0;
	return EVP_Digest(given, len, a, &la, EVP_sha256(), NULL) == 1 &&
	       EVP_Digest(cfg->api_key, cfg->api_key_len, b, &lb, EVP_sha256(), NULL) == 1 &&
	       la == 32 && lb == 32 && CRYPTO_memcmp(a, b, 32) == 0;
}

/* The credential of req: "Authorization: Bearer X", else token=X in the
 * query, else (POST) in the form.  Copied into out[cap]; its length, 0
 * when there is none, -1 when it is too long to be one. */
static long
credential(const http_request *req, char *out, size_t cap)
{
	const char *auth = http_header(req, "Authorization");
	if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0) {
		size_t len = strlen(auth + 7);
		if (len >= cap)
			return -1;
		memcpy(out, auth + 7, len + 1);
		return (long)len;
	}
	long n = http_form_value(req->query, strlen(req->query), "token", out, cap);
	if (n == -1 && req->method == HTTP_POST)
		n = http_form_value(req->body, req->body_len, "token", out, cap);
	return n == -1 ? 0 : n < 0 ? -1 : n;
}

bool
srv_auth_identify(srv_conn *c, const http_request *req, srv_who *who)
{
	const srv_config *cfg = &c->s->cfg;
	*who = (srv_who){ .open = cfg->token_key_len == 0 };
	char given[JWT_MAX_LEN + 1];
	long len = credential(req, given, sizeof(given));
	if (len < 0) {
		refuse(c, 401, jwt_rc_text(JWT_MALFORMED), true);
		return false;
	}
	if (len == 0)
		return true;                         /* nobody in particular */
	if (is_api_key(cfg, given, (size_t)len)) {
		who->api_key = true;
		return true;
	}
	if (who->open)
		return true;                         /* open: a token changes nothing */
	jwt_rc rc = jwt_verify(given, (size_t)len, cfg->token_key, cfg->token_key_len,
	                       srv_auth_now(), &who->claims);
	if (rc != JWT_OK) {
		refuse(c, 401, jwt_rc_text(rc), true);
		return false;
	}
	who->token = true;
	return true;
}

/* The channels a token allows: its claim, or ["room"] without one. */
static bool
token_allows(const srv_who *who, const char *channel)
{
	return who->claims.has_channels ? jwt_list_has(&who->claims.channels, channel)
	                                : strcmp(channel, SRV_DEFAULT_CHANNEL) == 0;
}

bool
srv_auth_channel(srv_conn *c, const srv_who *who, const char *channel)
{
	if (who->open || !who->token || token_allows(who, channel))
		return true;
	refuse(c, 403, "channel not allowed by the token", false);
	return false;
}

bool
srv_auth_reader(srv_conn *c, const http_request *req, const char *name,
                const srv_channel_list *asked, srv_channel_list *fallback,
                bool *use_fallback, srv_who *who)
{
	*use_fallback = false;
	if (!srv_auth_identify(c, req, who))
		return false;
	if (who->open)
		return true;
	if (!who->token) {
		refuse(c, 401, "a token is needed to read or join as a name", false);
		return false;
	}
	if (strcmp(who->claims.sub, name) != 0) {
		refuse(c, 403, "the token is for another name", false);
		return false;
	}
	for (size_t i = 0; asked != NULL && i < asked->n; i++)
		if (!srv_auth_channel(c, who, asked->names[i]))
			return false;
	if (asked == NULL) {                     /* a new client: the token's channels */
		fallback->n = 0;
		if (!who->claims.has_channels)
			snprintf(fallback->names[fallback->n++], SRV_CHANNEL_MAX + 1, "%s",
			         SRV_DEFAULT_CHANNEL);
		for (size_t i = 0; who->claims.has_channels && i < who->claims.channels.n &&
		                   i < SRV_CHANNELS_PER_CLIENT_MAX; i++)
			snprintf(fallback->names[fallback->n++], SRV_CHANNEL_MAX + 1, "%s",
			         who->claims.channels.names[i]);
		*use_fallback = true;
	}
	return true;
}

const char *
srv_auth_publish_refusal(const srv_who *who, const srv_target *to, int *status)
{
	*status = 403;
	if (who->open || who->api_key)
		return NULL;
	if (!who->token) {
		*status = 401;
		return "a token or the API key is needed to publish";
	}
	if (to->direct)
		return "only the API key may send to a name";
	if (!jwt_list_has(&who->claims.pub, to->name))
		return "the token may not publish to this channel";
	return NULL;
}

bool
srv_auth_publish(srv_conn *c, const srv_who *who, const srv_target *to,
                 const char *asked_from, const char **from)
{
	int status;
	const char *refusal = srv_auth_publish_refusal(who, to, &status);
	if (refusal != NULL) {
		refuse(c, status, refusal, false);
		return false;
	}
	*from = who->token ? who->claims.sub : asked_from;   /* never what name= says */
	return true;
}

bool
srv_auth_backend(srv_conn *c, const srv_who *who)
{
	if (who->open || who->api_key)
		return true;
	refuse(c, 401, "the API key is needed", who->token);
	return false;
}

bool
srv_auth_presence(srv_conn *c, const srv_who *who, const char *channel)
{
	if (who->open || who->api_key || (who->token && token_allows(who, channel)))
		return true;
	if (!who->token)
		refuse(c, 401, "a token or the API key is needed", false);
	else
		refuse(c, 403, "channel not allowed by the token", false);
	return false;
}

bool
srv_auth_origin(srv_conn *c, const http_request *req)
{
	const srv_config *cfg = &c->s->cfg;
	const char *origin = http_header(req, "Origin");
	if (origin == NULL || cfg->allow_origin_count == 0)
		return true;
	for (int i = 0; i < cfg->allow_origin_count; i++) {
		if (strcmp(origin, cfg->allow_origins[i]) == 0) {
			c->cors_origin = cfg->allow_origins[i];
			if (req->method == HTTP_OTHER && strcmp(req->method_name, "OPTIONS") == 0) {
				srv_respond(c, 204, NULL, "", 0,
				            "Access-Control-Allow-Methods: GET, HEAD, POST\r\n"
				            "Access-Control-Allow-Headers: Authorization, Content-Type, "
				            "Last-Event-ID\r\nAccess-Control-Max-Age: 600\r\n");
				return false;
			}
			return true;
		}
	}
	refuse(c, 403, "origin not allowed", false);
	return false;
}

long
srv_auth_read_key(const char *path, unsigned char *out, size_t cap, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s", path);
		return -1;
	}
	size_t n = fread(out, 1, cap, f);
	bool more = fgetc(f) != EOF;
	fclose(f);
	if (more) {
		snprintf(err, errlen, "%s is longer than %zu bytes", path, cap);
		return -1;
	}
	if (n > 0 && out[n - 1] == '\n')
		n--;                                 /* one trailing newline */
	return (long)n;
}

double
srv_auth_expires(const srv_who *who)
{
	return who->token ? who->claims.exp : 0;
}
