/*
 * auth.h - who may read a queue, join a channel, publish, or look at the
 * server: tokens for the browser, an API key for the application's
 * backend, and the origins pages may come from (docs/api.md, "Tokens and
 * origins").
 *
 * Without --token-key pushq is open, as the tutorial is: anyone may read
 * or join as any name, in any channel, and publish as anyone.  With it,
 * every request that reads or joins as name N needs an HS256 token
 * (http/jwt.h) whose "sub" is N, and what it may subscribe to and publish
 * to is the token's "channels" and "pub".  --api-key lets the backend
 * publish anywhere and read /stats and /presence.  --allow-origin limits
 * which pages may call the server from a browser.
 *
 * Each refusal is answered here, with its status and a JSON "error", and
 * logged once at info -- never with the token itself.
 * Thread-safety: every function from any thread (reads the config only).
 */
#ifndef PUSHQ_AUTH_H
#define PUSHQ_AUTH_H

#include "http/jwt.h"
#include "server/core/conn.h"
#include "server/room/channel.h"
#include "server/room/message.h"

#include <stdbool.h>

/* Who is asking. */
typedef struct {
	bool open;            /* no --token-key: anyone is anyone */
	bool api_key;         /* the backend's key (--api-key) */
	bool token;           /* a valid token: `claims` */
	jwt_claims claims;
} srv_who;

/* Reads the credentials of req (Authorization: Bearer, else token= in the
 * query or a POST form).  False after answering 401 for a token that is
 * there but not valid. */
bool srv_auth_identify(srv_conn *c, const http_request *req, srv_who *who);

/*
 * For a request that reads or joins as `name`, with the channel list it
 * asks for (NULL: none asked).  True when it may; otherwise false after
 * answering 401 (no token) or 403 (another name, a channel the token does
 * not allow).  When no list is asked, *fallback gets the token's channels
 * (for a client made now) and *use_fallback says whether to use them.
 */
bool srv_auth_reader(srv_conn *c, const http_request *req, const char *name,
                     const srv_channel_list *asked, srv_channel_list *fallback,
                     bool *use_fallback, srv_who *who);

/* Whether who may be in `channel` (403 after answering if not). */
bool srv_auth_channel(srv_conn *c, const srv_who *who, const char *channel);

/* Whether who may publish to `to` (401 nobody, 403 not in "pub", or a
 * direct message without the API key).  *from gets the name the message
 * is from: the token's sub, or `asked_from` for the API key and when open. */
bool srv_auth_publish(srv_conn *c, const srv_who *who, const srv_target *to,
                      const char *asked_from, const char **from);

/* The same without answering (a WebSocket frame): NULL when it may, else
 * the refusal's text and its HTTP status in *status. */
const char *srv_auth_publish_refusal(const srv_who *who, const srv_target *to, int *status);

/* When who's token ends (seconds since 1970), or 0: never. */
double srv_auth_expires(const srv_who *who);

/* Seconds since 1970 now, the clock tokens are read on. */
double srv_auth_now(void);

/* Whether who may read the server's own view (/stats): open, or the API
 * key (401 after answering otherwise). */
bool srv_auth_backend(srv_conn *c, const srv_who *who);

/* For /presence?channel=C: open, the API key, or a token whose channels
 * have C. */
bool srv_auth_presence(srv_conn *c, const srv_who *who, const char *channel);

/*
 * The Origin check, before any route: true when the request may go on
 * (no Origin header, no --allow-origin, or a listed origin: then
 * c->cors_origin is set, and every answer carries CORS headers).  False
 * after answering 403, or a preflight OPTIONS (204).
 */
bool srv_auth_origin(srv_conn *c, const http_request *req);

/* Reads a key file: its bytes, one trailing newline stripped, into
 * out[cap].  Its length, or -1 (with a reason in err). */
long srv_auth_read_key(const char *path, unsigned char *out, size_t cap, char *err,
                       size_t errlen);

#endif
