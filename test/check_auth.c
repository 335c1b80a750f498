/*
 * check_auth.c - integration: tokens, the API key and origins (docs/api.md,
 * "Tokens and origins") against a real build/pushq over real sockets.
 *
 * The server gets a key file written into a temporary folder; tokens are
 * made here, either with jwt_sign (http/jwt.h) or, for every token the
 * server must refuse, by hand: base64url and an HMAC from libcrypto, so a
 * header may say "none", "HS512", "RS256" or nothing at all.
 */
#define _GNU_SOURCE /* memmem */

#include "http/jwt.h"
#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The server's secret (38 bytes) and the backend's key. */
#define KEY "pushq-auth-suite-secret-0123456789abc"
#define API_KEY "backend-key-7f3a9c2e"
#define GOOD_ORIGIN "http://good.example"

static tu_server server;
static char dir[128];
static char key_path[160], api_path[160];

/* ------------------------------------------------------------------ */
/* Files and servers                                                   */
/* ------------------------------------------------------------------ */

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void
make_dir(void)
{
	const char *tmp = getenv("TMPDIR");          /* mkdtemp's template: XXXXXX */
	snprintf(dir, sizeof(dir), "%.80s/pushq-auth-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/token.key", dir);
	snprintf(api_path, sizeof(api_path), "%s/api.key", dir);
	write_file(key_path, KEY "\n", strlen(KEY) + 1);       /* the newline is stripped */
	write_file(api_path, API_KEY "\n", strlen(API_KEY) + 1);
}

static void
remove_dir(void)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* pushq with --token-key, --api-key and --allow-origin GOOD_ORIGIN. */
static void
start_auth(void)
{
	make_dir();
	const char *args[] = { "--token-key", key_path, "--api-key", api_path,
	                       "--allow-origin", GOOD_ORIGIN, NULL };
	server = tu_server_start(args);
}

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
	remove_dir();
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

static double
wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* base64url (no padding) of data[0..len), malloc'd. */
static char *
b64url(const void *data, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1);
	ck_assert_ptr_nonnull(out);
	tu_b64url(data, len, out);
	return out;
}

typedef enum {
	SIG_HS256,          /* HMAC-SHA256 with the key given */
	SIG_HS512,          /* HMAC-SHA512 with the key given */
	SIG_EMPTY,          /* "header.payload." */
	SIG_GARBAGE         /* 43 characters of nonsense */
} sig_kind;

/* header.payload.signature from JSON texts, malloc'd. */
static char *
mkjwt(const char *header, const char *payload, sig_kind how, const char *key, size_t key_len)
{
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
	size_t cap = strlen(h) + strlen(p) + 200;
	char *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	int used = snprintf(out, cap, "%s.%s", h, p);
	free(h);
	free(p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char *sig = NULL;
	if (how == SIG_HS256 || how == SIG_HS512) {
		ck_assert_ptr_nonnull(HMAC(how == SIG_HS256 ? EVP_sha256() : EVP_sha512(), key,
		                           (int)key_len, (unsigned char *)out, (size_t)used, mac,
		                           &mac_len));
		sig = b64url(mac, mac_len);
	}
	snprintf(out + used, cap - (size_t)used, ".%s",
	         how == SIG_EMPTY ? "" : how == SIG_GARBAGE ? "Zm9vYmFyYmF6cXV4Z2FyYmFnZWdhcmJhZ2VnYXJiYWc"
	                                                    : sig);
	free(sig);
	return out;
}

/* A payload: sub, exp = now + exp_in, and `more` (",\"pub\":[...]" ...). */
static void
payload(char *out, size_t cap, const char *sub, long exp_in, const char *more)
{
	snprintf(out, cap, "{\"sub\":\"%s\",\"exp\":%ld%s}", sub, (long)time(NULL) + exp_in,
	         more ? more : "");
}

/* An HS256 token from a payload text, signed with the server's key. */
static char *
signed_payload(const char *payload_json)
{
	return mkjwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload_json, SIG_HS256, KEY,
	             strlen(KEY));
}

/* Splits "a,b" into list. */
static void
list_of(jwt_list *list, const char *csv)
{
	list->n = 0;
	while (csv != NULL && *csv != '\0') {
		size_t n = strcspn(csv, ",");
		memcpy(list->names[list->n], csv, n);
		list->names[list->n++][n] = '\0';
		csv += n + (csv[n] == ',');
	}
}

/* A good token with jwt_sign: channels NULL = no claim (["room"]), pub
 * NULL = none; exp = `exp` seconds since 1970. */
static void
token_until(char *out, size_t cap, const char *sub, const char *channels, const char *pub,
            double exp)
{
	jwt_claims claims = { 0 };
	snprintf(claims.sub, sizeof(claims.sub), "%s", sub);
	claims.exp = exp;
	claims.has_channels = channels != NULL;
	list_of(&claims.channels, channels);
	list_of(&claims.pub, pub);
	ck_assert(jwt_sign(&claims, (const uint8_t *)KEY, strlen(KEY), out, cap));
}

static void
token(char *out, size_t cap, const char *sub, const char *channels, const char *pub)
{
	token_until(out, cap, sub, channels, pub, (double)time(NULL) + 600);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

/* One request on a new connection (closed after): extra header lines
 * (each ending \r\n) and a form body, both optional. */
static tu_response
http_at(int port, const char *method, const char *target, const char *headers, const char *body)
{
	size_t cap = strlen(target) + (headers ? strlen(headers) : 0) + 512;
	char *req = malloc(cap);
	ck_assert_ptr_nonnull(req);
	if (body != NULL)
		snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s"
		         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n",
		         method, target, headers ? headers : "", strlen(body));
	else
		snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n", method,
		         target, headers ? headers : "");
	int fd = tu_connect(port);
	tu_send_str(fd, req);
	if (body != NULL)
		tu_send_str(fd, body);
	free(req);
	tu_response r = tu_read_response(fd, strcmp(method, "HEAD") == 0);
	close(fd);
	return r;
}

static tu_response
http(const char *method, const char *target, const char *headers, const char *body)
{
	return http_at(server.port, method, target, headers, body);
}

#define WS_HEADERS "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" \
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

/* A WebSocket handshake; the socket when it is 101 (*r holds the head),
 * else -1 with the answer in *r. */
static int
ws_try(int port, const char *target, const char *headers, tu_response *r)
{
	size_t cap = strlen(target) + (headers ? strlen(headers) : 0) + 512;
	char *req = malloc(cap);
	snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: t\r\n" WS_HEADERS "%s\r\n", target,
	         headers ? headers : "");
	int fd = tu_connect(port);
	tu_send_str(fd, req);
	free(req);
	*r = tu_read_response(fd, 0);
	if (r->status == 101) {
		char accept[64] = "";
		tu_header(r, "Sec-WebSocket-Accept", accept, sizeof(accept));
		ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
		return fd;
	}
	close(fd);
	return -1;
}

/* A 101 or the test fails. */
static int
ws_open(const char *target, const char *headers)
{
	tu_response r;
	int fd = ws_try(server.port, target, headers, &r);
	ck_assert_msg(fd >= 0, "%s: %d %s", target, r.status, r.body);
	tu_response_free(&r);
	return fd;
}

/* The body as JSON: {"status":false,"error":"..."} (returns the error). */
static void
expect_error_json(const tu_response *r, const char *what, char *error, size_t cap)
{
	json_error_t err;
	json_t *j = json_loadb(r->body, r->body_len, 0, &err);
	ck_assert_msg(j != NULL, "%s: body is not JSON: %s", what, r->body);
	ck_assert_msg(json_is_false(json_object_get(j, "status")), "%s: %s", what, r->body);
	const char *e = tu_json_str(j, "error");
	ck_assert_msg(e != NULL && *e != '\0', "%s: no error in %s", what, r->body);
	if (error != NULL)
		snprintf(error, cap, "%s", e);
	json_decref(j);
}

/* 401 with WWW-Authenticate: Bearer (error="invalid_token" when a token
 * was presented), a JSON error, and that error holding `want` (if any). */
static void
expect_401(tu_response *r, bool presented, const char *want, const char *what)
{
	ck_assert_msg(r->status == 401, "%s: %d, not 401: %s", what, r->status, r->body);
	char v[128] = "";
	ck_assert_msg(tu_header(r, "WWW-Authenticate", v, sizeof(v)), "%s: no WWW-Authenticate",
	              what);
	ck_assert_str_eq(v, presented ? "Bearer error=\"invalid_token\"" : "Bearer");
	char error[256];
	expect_error_json(r, what, error, sizeof(error));
	if (want != NULL)
		ck_assert_msg(strstr(error, want) != NULL, "%s: error '%s' lacks '%s'", what, error,
		              want);
	tu_response_free(r);
}

static void
expect_403(tu_response *r, const char *what)
{
	ck_assert_msg(r->status == 403, "%s: %d, not 403: %s", what, r->status, r->body);
	expect_error_json(r, what, NULL, 0);
	tu_response_free(r);
}

static void
expect_status(tu_response *r, int status, const char *what)
{
	ck_assert_msg(r->status == status, "%s: %d, not %d: %s", what, r->status, status, r->body);
	tu_response_free(r);
}

/* Every request that reads or joins as `name`, with `cred` appended to
 * the query (or form) and `headers` added; each answer to check(). */
enum { R_AB_B1, R_GET_MSG, R_EVENTS, R_WS, R_SUBSCRIBE, R_UNSUBSCRIBE, R_COUNT };
static const char *const reader_names[R_COUNT] = { "/ab_b1", "/get_msg", "/events", "/ws",
                                                   "/subscribe", "/unsubscribe" };

static tu_response
reader_request(int which, const char *name, const char *extra_query, const char *cred,
               const char *headers)
{
	size_t cap = strlen(name) + strlen(extra_query) + strlen(cred) + 128;
	char *target = malloc(cap);
	tu_response r;
	switch (which) {
	case R_AB_B1:
		snprintf(target, cap, "/ab_b1?name=%s%s%s", name, extra_query, cred);
		r = http("GET", target, headers, NULL);
		break;
	case R_GET_MSG:
		snprintf(target, cap, "/get_msg?name=%s&timeout=0%s%s", name, extra_query, cred);
		r = http("GET", target, headers, NULL);
		break;
	case R_EVENTS:
		snprintf(target, cap, "/events?name=%s%s%s", name, extra_query, cred);
		r = http("GET", target, headers, NULL);
		break;
	case R_WS: {
		snprintf(target, cap, "/ws?name=%s%s%s", name, extra_query, cred);
		int fd = ws_try(server.port, target, headers, &r);
		if (fd >= 0)
			close(fd);
		break;
	}
	default:
		snprintf(target, cap, "name=%s&channel=room%s%s", name, extra_query, cred);
		r = http("POST", which == R_SUBSCRIBE ? "/subscribe" : "/unsubscribe", headers, target);
		break;
	}
	free(target);
	return r;
}

/* Every way a request may present `tok` is refused with 401
 * invalid_token (and an error holding `want`): the readers (query and
 * header), /send_msg (form and header), /presence and /stats. */
static void
refused_everywhere(const char *tok, const char *as, const char *want, const char *what)
{
	char cred[JWT_MAX_LEN + 64], header[JWT_MAX_LEN + 64], why[256];
	snprintf(cred, sizeof(cred), "&token=%s", tok);
	snprintf(header, sizeof(header), "Authorization: Bearer %s\r\n", tok);
	for (int i = 0; i < R_COUNT; i++) {
		snprintf(why, sizeof(why), "%s on %s (token=)", what, reader_names[i]);
		tu_response r = reader_request(i, as, "", cred, NULL);
		expect_401(&r, true, want, why);
		snprintf(why, sizeof(why), "%s on %s (Bearer)", what, reader_names[i]);
		r = reader_request(i, as, "", "", header);
		expect_401(&r, true, want, why);
	}
	char body[2 * JWT_MAX_LEN];
	snprintf(body, sizeof(body), "content=hi&name=%s%s", as, cred);
	snprintf(why, sizeof(why), "%s on /send_msg (form)", what);
	tu_response r = http("POST", "/send_msg", NULL, body);
	expect_401(&r, true, want, why);
	snprintf(why, sizeof(why), "%s on /send_msg (Bearer)", what);
	r = http("POST", "/send_msg", header, "content=hi");
	expect_401(&r, true, want, why);
	char target[2 * JWT_MAX_LEN];
	snprintf(target, sizeof(target), "/presence?channel=room%s", cred);
	snprintf(why, sizeof(why), "%s on /presence", what);
	r = http("GET", target, NULL, NULL);
	expect_401(&r, true, want, why);
	snprintf(why, sizeof(why), "%s on /stats", what);
	r = http("GET", "/stats", header, NULL);
	expect_401(&r, true, want, why);
}

/* POST /send_msg with the API key. */
static long
backend_send(const char *form)
{
	tu_response r = http("POST", "/send_msg", "Authorization: Bearer " API_KEY "\r\n", form);
	ck_assert_msg(r.status == 200, "backend send %s: %d %s", form, r.status, r.body);
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	long id = (long)tu_json_int(j, "id");
	json_decref(j);
	tu_response_free(&r);
	return id;
}

/* One message for `name` by long poll (waiting up to 5 s), as JSON. */
static json_t *
poll_one(const char *name, const char *tok)
{
	char target[1024];
	snprintf(target, sizeof(target), "/get_msg?name=%s&timeout=5&token=%s", name, tok);
	tu_response r = http("GET", target, NULL, NULL);
	ck_assert_msg(r.status == 200, "poll %s: %d %s", name, r.status, r.body);
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_msg(json_is_true(json_object_get(j, "status")), "poll %s: %s", name, r.body);
	tu_response_free(&r);
	return j;
}

/* Registers `name` by /ab_b1 with its token (and extra query). */
static void
join(const char *name, const char *tok, const char *extra_query)
{
	char target[1024];
	snprintf(target, sizeof(target), "/ab_b1?name=%s%s&token=%s", name, extra_query, tok);
	tu_response r = http("GET", target, NULL, NULL);
	expect_status(&r, 200, target);
}

/* ------------------------------------------------------------------ */
/* Claims that pass, and a missing token                               */
/* ------------------------------------------------------------------ */

START_TEST(missing_token_is_401_bearer)
{
	start_auth();
	for (int i = 0; i < R_COUNT; i++) {
		tu_response r = reader_request(i, "alice", "", "", NULL);
		expect_401(&r, false, NULL, reader_names[i]);
	}
	tu_response r = http("POST", "/send_msg", NULL, "content=hi&name=alice");
	expect_401(&r, false, NULL, "anonymous /send_msg");
	r = http("GET", "/stats", NULL, NULL);
	expect_401(&r, false, NULL, "/stats without the API key");
	r = http("GET", "/presence?channel=room", NULL, NULL);
	expect_401(&r, false, NULL, "/presence without credentials");
	/* An empty token= and "Authorization: Basic" are no token either. */
	r = http("GET", "/get_msg?name=alice&timeout=0&token=", NULL, NULL);
	ck_assert_int_eq(r.status, 401);
	tu_response_free(&r);
	r = http("GET", "/get_msg?name=alice&timeout=0", "Authorization: Basic YWxpY2U6eA==\r\n", NULL);
	expect_401(&r, false, NULL, "Basic credentials");
	stop();
}
END_TEST

START_TEST(a_valid_token_opens_every_transport)
{
	start_auth();
	char tok[1024], cred[1100], bearer[1100];
	token(tok, sizeof(tok), "alice", NULL, "room");
	snprintf(cred, sizeof(cred), "&token=%s", tok);
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", tok);
	/* /ab_b1: the page; a client with the token's channels (["room"]). */
	tu_response r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.head, "text/html"));
	tu_response_free(&r);
	r = reader_request(R_GET_MSG, "alice", "", cred, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":false,\"msg\":\"\"}");
	tu_response_free(&r);
	r = reader_request(R_GET_MSG, "alice", "", "", bearer);      /* the header works too */
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
	r = reader_request(R_EVENTS, "alice", "", cred, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.head, "text/event-stream"));
	tu_response_free(&r);
	r = reader_request(R_WS, "alice", "", cred, NULL);
	ck_assert_int_eq(r.status, 101);
	tu_response_free(&r);
	r = reader_request(R_WS, "alice", "", "", bearer);
	ck_assert_int_eq(r.status, 101);
	tu_response_free(&r);
	/* /subscribe with the token in the form: room again is still ok. */
	r = reader_request(R_UNSUBSCRIBE, "alice", "", cred, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":true,\"channels\":[]}");
	tu_response_free(&r);
	r = reader_request(R_SUBSCRIBE, "alice", "", cred, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":true,\"channels\":[\"room\"]}");
	tu_response_free(&r);
	/* nbf in the past is honoured (and passes); a real-numbered exp too. */
	char p[256];
	snprintf(p, sizeof(p), "{\"sub\":\"alice\",\"exp\":%ld.5,\"nbf\":%ld}", (long)time(NULL) + 600,
	         (long)time(NULL) - 60);
	char *t = signed_payload(p);
	snprintf(cred, sizeof(cred), "&token=%s", t);
	r = reader_request(R_GET_MSG, "alice", "", cred, NULL);
	ck_assert_msg(r.status == 200, "nbf in the past: %d %s", r.status, r.body);
	tu_response_free(&r);
	free(t);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Refused tokens                                                      */
/* ------------------------------------------------------------------ */

START_TEST(bad_tokens_are_401_invalid_token)
{
	start_auth();
	char p[512], good[1024];
	token(good, sizeof(good), "alice", NULL, "room");

	refused_everywhere("not-a-token", "alice", "malformed", "malformed (no dots)");
	refused_everywhere("a.b.c", "alice", "malformed", "malformed (a.b.c)");
	char *t = mkjwt("[1,2]", "{}", SIG_HS256, KEY, strlen(KEY));
	refused_everywhere(t, "alice", "malformed", "malformed (header not an object)");
	free(t);

	payload(p, sizeof(p), "alice", 600, NULL);
	const char other[] = "another-secret-of-at-least-32-bytes!!";
	t = mkjwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", p, SIG_HS256, other, strlen(other));
	refused_everywhere(t, "alice", "signature", "bad signature (other key)");
	free(t);

	payload(p, sizeof(p), "alice", -10, NULL);
	t = signed_payload(p);
	refused_everywhere(t, "alice", "expired", "expired (exp in the past)");
	free(t);
	t = signed_payload("{\"sub\":\"alice\"}");
	refused_everywhere(t, "alice", NULL, "no exp");
	free(t);
	snprintf(p, sizeof(p), "{\"sub\":\"alice\",\"exp\":\"%ld\"}", (long)time(NULL) + 600);
	t = signed_payload(p);
	refused_everywhere(t, "alice", NULL, "exp as a string");
	free(t);

	payload(p, sizeof(p), "alice", 600, NULL);
	snprintf(p + strlen(p) - 1, 64, ",\"nbf\":%ld}", (long)time(NULL) + 3600);
	t = signed_payload(p);
	refused_everywhere(t, "alice", "not yet", "not yet valid (nbf in the future)");
	free(t);

	/* Claims are case-sensitive: "Sub" is not "sub". */
	snprintf(p, sizeof(p), "{\"Sub\":\"alice\",\"exp\":%ld}", (long)time(NULL) + 600);
	t = signed_payload(p);
	refused_everywhere(t, "alice", NULL, "Sub for sub");
	free(t);
	/* Two sub claims: which one? Neither. */
	snprintf(p, sizeof(p), "{\"sub\":\"alice\",\"sub\":\"mallory\",\"exp\":%ld}",
	         (long)time(NULL) + 600);
	t = signed_payload(p);
	refused_everywhere(t, "mallory", NULL, "duplicate sub");
	free(t);

	/* Tampered: the payload says mallory, the signature is alice's. */
	char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
	payload(p, sizeof(p), "mallory", 600, ",\"pub\":[\"room\"]");
	char *forged_payload = b64url(p, strlen(p));
	char tampered[1024];
	snprintf(tampered, sizeof(tampered), "%.*s.%s%s", (int)(dot1 - good), good, forged_payload,
	         dot2);
	free(forged_payload);
	refused_everywhere(tampered, "mallory", "signature", "tampered payload");

	/* Truncated: one character, the whole signature, the last part. */
	char cut[1024];
	snprintf(cut, sizeof(cut), "%.*s", (int)strlen(good) - 1, good);
	refused_everywhere(cut, "alice", "signature", "truncated by one character");
	snprintf(cut, sizeof(cut), "%.*s", (int)(dot2 + 1 - good), good);
	refused_everywhere(cut, "alice", NULL, "truncated to header.payload.");
	snprintf(cut, sizeof(cut), "%.*s", (int)(dot2 - good), good);
	refused_everywhere(cut, "alice", "malformed", "truncated to header.payload");
	snprintf(cut, sizeof(cut), "%.*s", (int)strlen(good) / 2, good);
	refused_everywhere(cut, "alice", NULL, "truncated by half");
	/* One character changed in the signature. */
	snprintf(cut, sizeof(cut), "%s", good);
	cut[strlen(cut) - 5] = cut[strlen(cut) - 5] == 'A' ? 'B' : 'A';
	refused_everywhere(cut, "alice", "signature", "one signature character changed");

	/* The good token still passes after all that. */
	char cred[1100];
	snprintf(cred, sizeof(cred), "&token=%s", good);
	tu_response r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	expect_status(&r, 200, "the good token");
	stop();
}
END_TEST

START_TEST(alg_confusion_is_401)
{
	start_auth();
	char p[512];
	payload(p, sizeof(p), "alice", 600, ",\"pub\":[\"room\"]");
	struct {
		const char *header;
		sig_kind how;
		const char *what;
	} cases[] = {
		{ "{\"alg\":\"none\",\"typ\":\"JWT\"}", SIG_EMPTY, "alg none, empty signature" },
		{ "{\"alg\":\"none\",\"typ\":\"JWT\"}", SIG_GARBAGE, "alg none, garbage signature" },
		{ "{\"alg\":\"None\"}", SIG_EMPTY, "alg None, empty signature" },
		{ "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", SIG_HS512, "HS512 signed with HMAC-SHA512" },
		{ "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", SIG_HS256, "HS512 header, HS256 signature" },
		{ "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", SIG_HS256, "RS256, HMAC over the key" },
		{ "{\"typ\":\"JWT\"}", SIG_HS256, "no alg, HS256 signature" },
		{ "{\"alg\":null}", SIG_HS256, "alg null" },
		{ "{\"alg\":[\"HS256\"]}", SIG_HS256, "alg as an array" },
		{ "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", SIG_HS256, "hs256 lowercase" },
		{ "{\"alg\":\"HS256 \"}", SIG_HS256, "HS256 with a trailing space" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = mkjwt(cases[i].header, p, cases[i].how, KEY, strlen(KEY));
		refused_everywhere(t, "alice", NULL, cases[i].what);
		free(t);
	}
	/* The same payload under {"alg":"HS256"} passes (and publishes). */
	char *t = signed_payload(p);
	char body[1024];
	snprintf(body, sizeof(body), "content=hi&token=%s", t);
	tu_response r = http("POST", "/send_msg", NULL, body);
	expect_status(&r, 200, "the same payload, HS256");
	free(t);
	stop();
}
END_TEST

/* A 16 KiB token: refused (414/431 or 401), and the server goes on. */
START_TEST(huge_tokens_are_refused_and_the_server_goes_on)
{
	start_auth();
	size_t big = 16 * 1024;
	char *t = malloc(big + 1);
	memset(t, 'A', big);
	t[big] = '\0';
	memcpy(t + 100, ".", 1);
	memcpy(t + 200, ".", 1);
	char *target = malloc(big + 64);
	snprintf(target, big + 64, "/get_msg?name=alice&timeout=0&token=%s", t);
	tu_response r = http("GET", target, NULL, NULL);
	ck_assert_msg(r.status == 414 || r.status == 431 || r.status == 401,
	              "16 KiB token in the query: %d", r.status);
	tu_response_free(&r);
	char *header = malloc(big + 64);
	snprintf(header, big + 64, "Authorization: Bearer %s\r\n", t);
	r = http("GET", "/get_msg?name=alice&timeout=0", header, NULL);
	ck_assert_msg(r.status == 431 || r.status == 401, "16 KiB Bearer token: %d", r.status);
	tu_response_free(&r);
	/* Just past JWT_MAX_LEN in a header (within the head limit): 401. */
	t[JWT_MAX_LEN + 10] = '\0';
	snprintf(header, big + 64, "Authorization: Bearer %s\r\n", t);
	r = http("GET", "/ab_b1?name=a", header, NULL);
	expect_401(&r, true, "malformed", "an 8 KiB + 10 Bearer token");
	/* Nearly 8 KiB in the query (within the target limit): 401. */
	t[8100] = '\0';
	snprintf(target, big + 64, "/ab_b1?name=a&token=%s", t);
	ck_assert_uint_lt(strlen(target), 8192);
	r = http("GET", target, NULL, NULL);
	expect_401(&r, true, "malformed", "an 8100-byte token= (A's and dots)");
	free(header);
	free(target);
	free(t);
	/* Still serving. */
	char good[1024], cred[1100];
	token(good, sizeof(good), "alice", NULL, NULL);
	snprintf(cred, sizeof(cred), "&token=%s", good);
	r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	expect_status(&r, 200, "after the huge tokens");
	r = http("GET", "/stats", "Authorization: Bearer " API_KEY "\r\n", NULL);
	expect_status(&r, 200, "/stats after the huge tokens");
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Names and channels                                                  */
/* ------------------------------------------------------------------ */


START_TEST(another_name_is_403)
{
	start_auth();
	char tok[1024], cred[1100], bearer[1100];
	token(tok, sizeof(tok), "alice", "room,x", "room");
	snprintf(cred, sizeof(cred), "&token=%s", tok);
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", tok);
	join("alice", tok, "");
	char bob[1024];
	token(bob, sizeof(bob), "bob", NULL, NULL);
	join("bob", bob, "");                       /* bob exists: 403, not 404 */
	for (int i = 0; i < R_COUNT; i++) {
		tu_response r = reader_request(i, "bob", "", cred, NULL);
		expect_403(&r, reader_names[i]);
		r = reader_request(i, "bob", "", "", bearer);
		expect_403(&r, reader_names[i]);
		r = reader_request(i, "alice2", "", cred, NULL);   /* a prefix is no match */
		expect_403(&r, reader_names[i]);
		r = reader_request(i, "Alice", "", cred, NULL);    /* nor another case */
		expect_403(&r, reader_names[i]);
	}
	/* bob's queue was not touched: a message for bob is still his. */
	backend_send("content=for-bob&to=bob");
	json_t *m = poll_one("bob", bob);
	ck_assert_str_eq(tu_json_str(m, "msg"), "for-bob");
	json_decref(m);
	stop();
}
END_TEST

/* POST /subscribe or /unsubscribe name=N&channel=C with tok; the answer. */
static tu_response
change(const char *path, const char *name, const char *channel, const char *tok)
{
	char body[1200];
	snprintf(body, sizeof(body), "name=%s&channel=%s&token=%s", name, channel, tok);
	return http("POST", path, NULL, body);
}

START_TEST(channels_outside_the_token_are_403)
{
	start_auth();
	char tok[1024];
	token(tok, sizeof(tok), "alice", "room,x", "room");
	char cred[1100];
	snprintf(cred, sizeof(cred), "&token=%s", tok);
	/* A new client without channels= gets the token's: room and x. */
	join("alice", tok, "");
	backend_send("content=on-x&channel=x");
	json_t *m = poll_one("alice", tok);
	ck_assert_str_eq(tu_json_str(m, "msg"), "on-x");
	ck_assert_str_eq(tu_json_str(m, "channel"), "x");
	json_decref(m);
	/* channels= with one the token does not allow: 403 on every reader. */
	for (int i = R_AB_B1; i <= R_WS; i++) {
		tu_response r = reader_request(i, "alice", "&channels=room,y", cred, NULL);
		expect_403(&r, reader_names[i]);
	}
	tu_response r = reader_request(R_WS, "alice", "&channels=x", cred, NULL);
	ck_assert_int_eq(r.status, 101);            /* one it allows */
	tu_response_free(&r);
	r = reader_request(R_GET_MSG, "alice", "&channels=room", cred, NULL);
	expect_status(&r, 200, "channels=room");
	/* /subscribe: x yes, y no (and the list is unchanged by the 403). */
	r = change("/subscribe", "alice", "x", tok);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":true,\"channels\":[\"room\",\"x\"]}");
	tu_response_free(&r);
	r = change("/subscribe", "alice", "y", tok);
	expect_403(&r, "/subscribe y");
	r = change("/unsubscribe", "alice", "x", tok);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":true,\"channels\":[\"room\"]}");
	tu_response_free(&r);
	/* No channels claim: ["room"] only. */
	char bob[1024];
	token(bob, sizeof(bob), "bob", NULL, NULL);
	snprintf(cred, sizeof(cred), "&token=%s", bob);
	r = reader_request(R_AB_B1, "bob", "&channels=x", cred, NULL);
	expect_403(&r, "bob channels=x");
	r = reader_request(R_AB_B1, "bob", "&channels=room", cred, NULL);
	expect_status(&r, 200, "bob channels=room");
	r = change("/subscribe", "bob", "x", bob);
	expect_403(&r, "bob /subscribe x");
	r = change("/subscribe", "bob", "room", bob);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":true,\"channels\":[\"room\"]}");
	tu_response_free(&r);
	stop();
}
END_TEST

/* POST /send_msg with form and headers; the answer. */
static tu_response
send_as(const char *tok, const char *form)
{
	char body[1500];
	snprintf(body, sizeof(body), "%s&token=%s", form, tok);
	return http("POST", "/send_msg", NULL, body);
}

START_TEST(publishing_follows_pub_and_from_is_the_sub)
{
	start_auth();
	char alice[1024], bob[1024];
	token(alice, sizeof(alice), "alice", NULL, "room");
	token(bob, sizeof(bob), "bob", NULL, NULL);
	join("alice", alice, "");
	join("bob", bob, "");
	/* name=mallory with alice's token: from is alice. */
	tu_response r = send_as(alice, "content=hi&name=mallory");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"receivers\":2"));
	tu_response_free(&r);
	json_t *m = poll_one("bob", bob);
	ck_assert_str_eq(tu_json_str(m, "msg"), "hi");
	ck_assert_str_eq(tu_json_str(m, "from"), "alice");
	ck_assert_str_eq(tu_json_str(m, "channel"), "room");
	json_decref(m);
	m = poll_one("alice", alice);
	ck_assert_str_eq(tu_json_str(m, "from"), "alice");
	json_decref(m);
	/* The header works as the form does. */
	char bearer[1100];
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", alice);
	r = http("POST", "/send_msg", bearer, "content=hdr&name=bob&channel=room");
	expect_status(&r, 200, "publish with Bearer");
	m = poll_one("bob", bob);
	ck_assert_str_eq(tu_json_str(m, "msg"), "hdr");
	ck_assert_str_eq(tu_json_str(m, "from"), "alice");
	json_decref(m);
	/* Outside pub, to a name, or no pub at all: 403. */
	r = send_as(alice, "content=x&channel=x");
	expect_403(&r, "channel outside pub");
	r = send_as(alice, "content=x&to=bob");
	expect_403(&r, "to=NAME with a token");
	r = send_as(alice, "content=x&to=alice");
	expect_403(&r, "to=self with a token");
	r = send_as(bob, "content=x");
	expect_403(&r, "a token without pub");
	/* The API key: to=NAME with any from; any channel. */
	r = http("POST", "/send_msg", "Authorization: Bearer " API_KEY "\r\n",
	         "content=direct&to=bob&name=boss");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"receivers\":1"));
	tu_response_free(&r);
	m = poll_one("bob", bob);
	ck_assert_str_eq(tu_json_str(m, "msg"), "direct");
	ck_assert_str_eq(tu_json_str(m, "from"), "boss");
	ck_assert_str_eq(tu_json_str(m, "to"), "bob");
	ck_assert_ptr_null(json_object_get(m, "channel"));
	json_decref(m);
	r = http("POST", "/send_msg", "Authorization: Bearer " API_KEY "\r\n",
	         "content=anywhere&channel=elsewhere&name=x");
	expect_status(&r, 200, "the API key to any channel");
	/* Nothing else was delivered: the refused sends left no trace. */
	char target[1200];
	snprintf(target, sizeof(target), "/get_msg?name=bob&timeout=0&token=%s", bob);
	r = http("GET", target, NULL, NULL);
	ck_assert_str_eq(r.body, "{\"status\":false,\"msg\":\"\"}");
	tu_response_free(&r);
	/* A wrong API key is an invalid token; anonymous is 401. */
	r = http("POST", "/send_msg", "Authorization: Bearer " API_KEY "x\r\n", "content=x&to=bob");
	expect_401(&r, true, NULL, "a wrong API key");
	r = http("POST", "/send_msg", NULL, "content=x&name=boss");
	expect_401(&r, false, NULL, "anonymous /send_msg");
	stop();
}
END_TEST

/* The next text frame within a few seconds, as JSON (fails otherwise). */
static json_t *
ws_next_json(int fd)
{
	double deadline = tu_now() + tu_slack(5);
	for (;;) {
		ck_assert_msg(tu_wait_readable(fd, deadline - tu_now()) >= 0, "no frame in time");
		uint8_t *p;
		size_t len;
		int op = wsf_read(fd, &p, &len);
		ck_assert_msg(op >= 0, "the WebSocket ended");
		if (op == 0x1) {
			json_t *j = json_loadb((const char *)p, len, 0, NULL);
			ck_assert_msg(j != NULL, "not JSON: %s", p);
			free(p);
			return j;
		}
		ck_assert_msg(op != 0x8, "closed: %zu bytes", len);
		free(p);
	}
}

static void
ws_send_text(int fd, const char *text)
{
	wsf_send_message(fd, 0x1, text, strlen(text));
}

START_TEST(websocket_publishing_follows_pub)
{
	start_auth();
	char alice[1024], bob[1024], target[1200];
	token(alice, sizeof(alice), "alice", "room,x", "room");
	token(bob, sizeof(bob), "bob", NULL, NULL);
	snprintf(target, sizeof(target), "/ws?name=alice&token=%s", alice);
	int a = ws_open(target, NULL);
	snprintf(target, sizeof(target), "/ws?name=bob&token=%s", bob);
	int b = ws_open(target, NULL);
	ws_send_text(a, "{\"msg\":\"no\",\"channel\":\"x\"}");       /* x is not in pub */
	json_t *j = ws_next_json(a);
	ck_assert(json_is_false(json_object_get(j, "status")));
	ck_assert_ptr_nonnull(tu_json_str(j, "error"));
	json_decref(j);
	ws_send_text(a, "{\"msg\":\"no\",\"to\":\"bob\"}");          /* only the API key */
	j = ws_next_json(a);
	ck_assert(json_is_false(json_object_get(j, "status")));
	json_decref(j);
	ws_send_text(b, "bob has no pub");
	j = ws_next_json(b);
	ck_assert(json_is_false(json_object_get(j, "status")));
	json_decref(j);
	ws_send_text(a, "hello");                                   /* room: allowed */
	j = ws_next_json(b);
	ck_assert_str_eq(tu_json_str(j, "msg"), "hello");
	ck_assert_str_eq(tu_json_str(j, "from"), "alice");
	ck_assert_str_eq(tu_json_str(j, "channel"), "room");
	json_decref(j);
	j = ws_next_json(a);
	ck_assert_str_eq(tu_json_str(j, "msg"), "hello");
	json_decref(j);
	close(a);
	close(b);
	stop();
}
END_TEST

START_TEST(stats_and_presence_need_the_right_credential)
{
	start_auth();
	char alice[1024], xonly[1024], bearer[1100], target[1200];
	token(alice, sizeof(alice), "alice", NULL, "room");
	token(xonly, sizeof(xonly), "carol", "x", NULL);
	snprintf(target, sizeof(target), "/ws?name=alice&token=%s", alice);
	int ws = ws_open(target, NULL);
	/* /stats: the API key only. */
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", alice);
	tu_response r = http("GET", "/stats", bearer, NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(strstr(r.head, "WWW-Authenticate: Bearer"));
	expect_error_json(&r, "/stats with a token", NULL, 0);
	tu_response_free(&r);
	r = http("GET", "/stats", "Authorization: Bearer " API_KEY "x\r\n", NULL);
	expect_401(&r, true, NULL, "/stats with a wrong API key");
	r = http("GET", "/stats", "Authorization: Bearer backend-key\r\n", NULL);
	expect_401(&r, true, NULL, "/stats with a prefix of the API key");
	r = http("GET", "/stats", "Authorization: Bearer " API_KEY "\r\n", NULL);
	ck_assert_int_eq(r.status, 200);
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_ptr_nonnull(tu_stats_client(j, "alice"));
	json_decref(j);
	tu_response_free(&r);
	/* /presence?channel=room: the API key, or a token with room. */
	r = http("GET", "/presence?channel=room", "Authorization: Bearer " API_KEY "\r\n", NULL);
	ck_assert_int_eq(r.status, 200);
	j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_str_eq(tu_json_str(j, "channel"), "room");
	ck_assert_int_eq(tu_json_int(j, "count"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "clients"), 0), "name")), "alice");
	json_decref(j);
	tu_response_free(&r);
	snprintf(target, sizeof(target), "/presence?channel=room&token=%s", alice);
	r = http("GET", target, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"name\":\"alice\""));
	tu_response_free(&r);
	snprintf(target, sizeof(target), "/presence?channel=x&token=%s", alice);
	r = http("GET", target, NULL, NULL);
	expect_403(&r, "/presence of a channel the token lacks");
	snprintf(target, sizeof(target), "/presence?channel=room&token=%s", xonly);
	r = http("GET", target, NULL, NULL);
	expect_403(&r, "/presence of room with channels [x]");
	snprintf(target, sizeof(target), "/presence?channel=x&token=%s", xonly);
	r = http("GET", target, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"count\":0"));
	tu_response_free(&r);
	close(ws);
	stop();
}
END_TEST

START_TEST(the_lab_and_the_pages_stay_open)
{
	start_auth();
	tu_response r = http("POST", "/lab/new", NULL, NULL);
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(strstr(r.body, "\"id\":"));
	tu_response_free(&r);
	r = http("GET", "/", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.head, "text/html"));
	tu_response_free(&r);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Key files                                                           */
/* ------------------------------------------------------------------ */

START_TEST(a_short_key_exits_2)
{
	make_dir();
	char path[160], err[512];
	snprintf(path, sizeof(path), "%s/short.key", dir);
	write_file(path, "0123456789012345678901234567890", 31);
	const char *args[] = { "--port", "0", "--token-key", path, NULL };
	ck_assert_int_eq(tu_run_pushq(args, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "32") != NULL && strstr(err, "31") != NULL, "reason: %s", err);
	/* 31 bytes and a newline: still 31. */
	write_file(path, "0123456789012345678901234567890\n", 32);
	ck_assert_int_eq(tu_run_pushq(args, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "32") != NULL, "reason: %s", err);
	/* No such file. */
	snprintf(path, sizeof(path), "%s/none.key", dir);
	ck_assert_int_eq(tu_run_pushq(args, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "none.key") != NULL, "reason: %s", err);
	/* An empty API key. */
	snprintf(path, sizeof(path), "%s/empty.key", dir);
	write_file(path, "", 0);
	const char *api[] = { "--port", "0", "--api-key", path, NULL };
	ck_assert_int_eq(tu_run_pushq(api, err, sizeof(err)), 2);
	ck_assert_msg(err[0] != '\0', "no reason");
	remove_dir();
}
END_TEST

/* `pushq token ARGS` to its end: its one line of output into out. */
static int
run_token(const char *args, char *out, size_t cap)
{
	const char *bin = getenv("PUSHQ_BIN") ? getenv("PUSHQ_BIN") : "build/pushq";
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s token %s", bin, args);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	out[0] = '\0';
	if (fgets(out, (int)cap, p) == NULL)
		out[0] = '\0';
	char extra[16];
	ck_assert_ptr_null(fgets(extra, sizeof(extra), p));    /* one line */
	int status = pclose(p);
	out[strcspn(out, "\n")] = '\0';
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(one_trailing_newline_is_stripped)
{
	start_auth();                               /* its key file ends in "\n" */
	char p[256], cred[2200];
	payload(p, sizeof(p), "alice", 600, NULL);
	char *t = mkjwt("{\"alg\":\"HS256\"}", p, SIG_HS256, KEY, strlen(KEY));
	snprintf(cred, sizeof(cred), "&token=%s", t);
	tu_response r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	expect_status(&r, 200, "signed without the newline");
	free(t);
	t = mkjwt("{\"alg\":\"HS256\"}", p, SIG_HS256, KEY "\n", strlen(KEY) + 1);
	snprintf(cred, sizeof(cred), "&token=%s", t);
	r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	expect_401(&r, true, "signature", "signed with the newline");
	free(t);
	/* The API key file's newline too. */
	r = http("GET", "/stats", "Authorization: Bearer " API_KEY "\r\n", NULL);
	expect_status(&r, 200, "API key without its newline");

	/* pushq token: one line, verified with the key without the newline. */
	char out[2048], args[512];
	snprintf(args, sizeof(args), "--key %s --sub dave --channels room,x --pub room --ttl 120",
	         key_path);
	ck_assert_int_eq(run_token(args, out, sizeof(out)), 0);
	jwt_claims claims;
	ck_assert_int_eq(jwt_verify(out, strlen(out), (const uint8_t *)KEY, strlen(KEY),
	                            wall_now(), &claims), JWT_OK);
	ck_assert_str_eq(claims.sub, "dave");
	ck_assert(claims.has_channels);
	ck_assert_uint_eq(claims.channels.n, 2);
	ck_assert_str_eq(claims.channels.names[1], "x");
	ck_assert_uint_eq(claims.pub.n, 1);
	ck_assert_str_eq(claims.pub.names[0], "room");
	ck_assert(claims.exp > wall_now() + 110 && claims.exp <= wall_now() + 121);
	snprintf(cred, sizeof(cred), "&channels=room,x&token=%s", out);
	r = reader_request(R_AB_B1, "dave", "", cred, NULL);
	expect_status(&r, 200, "a pushq token token");
	/* Defaults: channels ["room"], ttl 3600, no pub. */
	snprintf(args, sizeof(args), "--key %s --sub erin", key_path);
	ck_assert_int_eq(run_token(args, out, sizeof(out)), 0);
	ck_assert_int_eq(jwt_verify(out, strlen(out), (const uint8_t *)KEY, strlen(KEY),
	                            wall_now(), &claims), JWT_OK);
	ck_assert(claims.has_channels);
	ck_assert_uint_eq(claims.channels.n, 1);
	ck_assert_str_eq(claims.channels.names[0], "room");
	ck_assert_uint_eq(claims.pub.n, 0);
	ck_assert(claims.exp > wall_now() + 3590 && claims.exp <= wall_now() + 3601);
	stop();

	/* Only one newline: a file "KEY\n\n" is the key "KEY\n". */
	make_dir();
	write_file(key_path, KEY "\n\n", strlen(KEY) + 2);
	const char *args2[] = { "--token-key", key_path, NULL };
	server = tu_server_start(args2);
	t = mkjwt("{\"alg\":\"HS256\"}", p, SIG_HS256, KEY "\n", strlen(KEY) + 1);
	snprintf(cred, sizeof(cred), "&token=%s", t);
	r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	expect_status(&r, 200, "KEY\\n\\n: signed with KEY\\n");
	free(t);
	t = mkjwt("{\"alg\":\"HS256\"}", p, SIG_HS256, KEY, strlen(KEY));
	snprintf(cred, sizeof(cred), "&token=%s", t);
	r = reader_request(R_AB_B1, "alice", "", cred, NULL);
	expect_401(&r, true, "signature", "KEY\\n\\n: signed with KEY");
	free(t);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Expiry during a stream, then a resume with a new token              */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	int code;        /* the close frame's code, -1 for EOF without one */
	double at;       /* when it came, seconds since 1970 */
	int texts;       /* text frames before it */
} ws_watch;

static bool
ws_closed(void *arg)
{
	ws_watch *w = arg;
	if (tu_wait_readable(w->fd, 0) < 0)
		return false;
	uint8_t *p;
	size_t len;
	int op = wsf_read(w->fd, &p, &len);
	if (op < 0 || op == 0x8) {
		w->at = wall_now();
		w->code = op < 0 ? -1 : len >= 2 ? (p[0] << 8) | p[1] : 1005;
		free(p);
		return true;
	}
	w->texts += op == 0x1;
	free(p);
	return false;
}

static void
expect_message(json_t *m, const char *msg, long id)
{
	ck_assert_msg(tu_json_str(m, "msg") != NULL && strcmp(tu_json_str(m, "msg"), msg) == 0,
	              "got %s, want %s", tu_json_str(m, "msg"), msg);
	ck_assert_int_eq(tu_json_int(m, "id"), id);
	json_decref(m);
}

START_TEST(websocket_expiry_closes_1008_then_resumes)
{
	start_auth();
	char tok[1024], target[1400];
	double exp = (double)time(NULL) + 2;
	token_until(tok, sizeof(tok), "alice", NULL, NULL, exp);
	snprintf(target, sizeof(target), "/ws?name=alice&token=%s", tok);
	int fd = ws_open(target, NULL);
	long id1 = backend_send("content=m1");
	long id2 = backend_send("content=m2");
	expect_message(ws_next_json(fd), "m1", id1);
	expect_message(ws_next_json(fd), "m2", id2);
	ws_watch w = { .fd = fd };
	ck_assert_msg(tu_wait_until(ws_closed, &w, tu_slack(exp - wall_now() + 3)),
	              "no close within 3 s of exp");
	ck_assert_int_eq(w.code, 1008);
	ck_assert_int_eq(w.texts, 0);
	ck_assert_msg(w.at >= exp - 0.02, "closed %.3f s before exp", exp - w.at);
	ck_assert_msg(w.at <= exp + tu_slack(1.0), "closed %.3f s after exp", w.at - exp);
	close(fd);
	/* While away. */
	long id[6] = { 0 };
	for (int i = 3; i <= 5; i++) {
		char form[32];
		snprintf(form, sizeof(form), "content=m%d", i);
		id[i] = backend_send(form);
	}
	/* The expired token no longer opens it. */
	tu_response r;
	snprintf(target, sizeof(target), "/ws?name=alice&since=%ld&token=%s", id2, tok);
	ck_assert_int_eq(ws_try(server.port, target, NULL, &r), -1);
	expect_401(&r, true, "expired", "resume with the expired token");
	/* A new one: m3..m5 exactly once, then what comes next. */
	token(tok, sizeof(tok), "alice", NULL, NULL);
	snprintf(target, sizeof(target), "/ws?name=alice&since=%ld&token=%s", id2, tok);
	fd = ws_open(target, NULL);
	for (int i = 3; i <= 5; i++) {
		char msg[16];
		snprintf(msg, sizeof(msg), "m%d", i);
		expect_message(ws_next_json(fd), msg, id[i]);
	}
	long id6 = backend_send("content=m6");
	expect_message(ws_next_json(fd), "m6", id6);
	close(fd);
	stop();
}
END_TEST

typedef struct {
	int fd;
	char buf[32768];
	size_t len;
	bool eof;
	double eof_at;
} sse;

/* Reads what is there (waiting up to `seconds`); false on EOF or timeout. */
static bool
sse_fill(sse *s, double seconds)
{
	if (s->eof || tu_wait_readable(s->fd, seconds) < 0 || s->len + 1 >= sizeof(s->buf))
		return false;
	ssize_t n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len, 0);
	if (n <= 0) {
		s->eof = true;
		s->eof_at = wall_now();
		return false;
	}
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return true;
}

static void
sse_open(sse *s, const char *target, const char *headers)
{
	memset(s, 0, sizeof(*s));
	s->fd = tu_connect(server.port);
	char req[2048];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n%s\r\n",
	         target, headers ? headers : "");
	tu_send_str(s->fd, req);
	char *end;
	double deadline = tu_now() + tu_slack(5);
	while ((end = memmem(s->buf, s->len, "\r\n\r\n", 4)) == NULL)
		ck_assert_msg(sse_fill(s, deadline - tu_now()), "no response head");
	ck_assert_msg(strncmp(s->buf, "HTTP/1.1 200", 12) == 0, "%s", s->buf);
	ck_assert_ptr_nonnull(strstr(s->buf, "text/event-stream"));
	size_t head = (size_t)(end + 4 - s->buf);
	memmove(s->buf, s->buf + head, s->len - head + 1);
	s->len -= head;
}

/* The next event with data, as JSON; its id: line must match "id". */
static json_t *
sse_next_json(sse *s)
{
	double deadline = tu_now() + tu_slack(5);
	for (;;) {
		char *end;
		while ((end = memmem(s->buf, s->len, "\n\n", 2)) == NULL)
			ck_assert_msg(sse_fill(s, deadline - tu_now()), "no event in time (eof %d)", s->eof);
		*end = '\0';
		char *data = strstr(s->buf, "data: ");
		json_t *j = NULL;
		long id = -1;
		if (data != NULL) {
			char *id_line = strstr(s->buf, "id: ");
			ck_assert_ptr_nonnull(id_line);
			id = strtol(id_line + 4, NULL, 10);
			j = json_loads(data + 6, 0, NULL);
			ck_assert_msg(j != NULL, "data is not JSON: %s", data);
		}
		size_t n = (size_t)(end + 2 - s->buf);
		memmove(s->buf, s->buf + n, s->len - n + 1);
		s->len -= n;
		if (j != NULL) {
			ck_assert_int_eq(tu_json_int(j, "id"), id);
			return j;
		}
	}
}

static bool
sse_ended(void *arg)
{
	sse *s = arg;
	while (sse_fill(s, 0))
		;
	return s->eof;
}

START_TEST(sse_expiry_ends_the_stream_then_resumes)
{
	start_auth();
	char tok[1024], target[1400];
	double exp = (double)time(NULL) + 2;
	token_until(tok, sizeof(tok), "carol", NULL, NULL, exp);
	snprintf(target, sizeof(target), "/events?name=carol&token=%s", tok);
	sse s;
	sse_open(&s, target, NULL);
	long id1 = backend_send("content=m1");
	long id2 = backend_send("content=m2");
	expect_message(sse_next_json(&s), "m1", id1);
	expect_message(sse_next_json(&s), "m2", id2);
	ck_assert_msg(tu_wait_until(sse_ended, &s, tu_slack(exp - wall_now() + 3)),
	              "the stream did not end within 3 s of exp");
	ck_assert_msg(s.eof_at >= exp - 0.02, "ended %.3f s before exp", exp - s.eof_at);
	ck_assert_msg(s.eof_at <= exp + tu_slack(1.0), "ended %.3f s after exp", s.eof_at - exp);
	ck_assert_msg(strstr(s.buf, "data:") == NULL, "an event after m2: %s", s.buf);
	close(s.fd);
	long id[6] = { 0 };
	for (int i = 3; i <= 5; i++) {
		char form[32];
		snprintf(form, sizeof(form), "content=m%d", i);
		id[i] = backend_send(form);
	}
	char last[64];
	snprintf(last, sizeof(last), "Last-Event-ID: %ld\r\n", id2);
	tu_response r = http("GET", target, last, NULL);
	expect_401(&r, true, "expired", "resume with the expired token");
	token(tok, sizeof(tok), "carol", NULL, NULL);
	snprintf(target, sizeof(target), "/events?name=carol&token=%s", tok);
	sse_open(&s, target, last);
	for (int i = 3; i <= 5; i++) {
		char msg[16];
		snprintf(msg, sizeof(msg), "m%d", i);
		expect_message(sse_next_json(&s), msg, id[i]);
	}
	long id6 = backend_send("content=m6");
	expect_message(sse_next_json(&s), "m6", id6);
	close(s.fd);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Origins                                                             */
/* ------------------------------------------------------------------ */

/* Access-Control-Allow-Origin of r is exactly `want` (NULL: none). */
static void
expect_acao(const tu_response *r, const char *want, const char *what)
{
	char v[256];
	int has = tu_header(r, "Access-Control-Allow-Origin", v, sizeof(v));
	if (want == NULL) {
		ck_assert_msg(!has, "%s: Access-Control-Allow-Origin: %s", what, v);
		return;
	}
	ck_assert_msg(has, "%s: no Access-Control-Allow-Origin in %s", what, r->head);
	ck_assert_str_eq(v, want);
	ck_assert_ptr_null(strstr(r->head, "Access-Control-Allow-Origin: *"));
}

START_TEST(origins_are_checked_and_echoed)
{
	const char *args[] = { "--allow-origin", GOOD_ORIGIN, "--allow-origin", "http://also.example",
	                       NULL };
	server = tu_server_start(args);
	/* A WebSocket handshake from another origin: 403, no 101. */
	tu_response r;
	ck_assert_int_eq(ws_try(server.port, "/ws?name=w", "Origin: http://evil.example\r\n", &r), -1);
	expect_403(&r, "WebSocket from evil");
	int fd = ws_try(server.port, "/ws?name=w", "Origin: " GOOD_ORIGIN "\r\n", &r);
	ck_assert_int_ge(fd, 0);
	tu_response_free(&r);
	close(fd);
	/* Listed origins: CORS, the origin echoed exactly. */
	r = http("GET", "/get_msg?name=w&timeout=0", "Origin: " GOOD_ORIGIN "\r\n", NULL);
	ck_assert_int_eq(r.status, 200);
	expect_acao(&r, GOOD_ORIGIN, "GET from good");
	tu_response_free(&r);
	r = http("POST", "/send_msg", "Origin: http://also.example\r\n", "content=hi");
	ck_assert_int_eq(r.status, 200);
	expect_acao(&r, "http://also.example", "POST from the second origin");
	tu_response_free(&r);
	/* Preflight. */
	r = http("OPTIONS", "/send_msg", "Origin: " GOOD_ORIGIN "\r\nAccess-Control-Request-Method: "
	         "POST\r\nAccess-Control-Request-Headers: authorization\r\n", NULL);
	ck_assert_msg(r.status == 204 || r.status == 200, "preflight: %d", r.status);
	expect_acao(&r, GOOD_ORIGIN, "preflight");
	char methods[128] = "", headers[256] = "";
	ck_assert(tu_header(&r, "Access-Control-Allow-Methods", methods, sizeof(methods)));
	ck_assert_ptr_nonnull(strstr(methods, "POST"));
	ck_assert_ptr_nonnull(strstr(methods, "GET"));
	ck_assert(tu_header(&r, "Access-Control-Allow-Headers", headers, sizeof(headers)));
	ck_assert_ptr_nonnull(strcasestr(headers, "Authorization"));
	tu_response_free(&r);
	r = http("OPTIONS", "/send_msg", "Origin: http://evil.example\r\nAccess-Control-Request-Method: "
	         "POST\r\n", NULL);
	expect_403(&r, "preflight from evil");
	/* Near misses are other origins. */
	const char *others[] = { "http://evil.example", "http://good.example.evil.example",
	                         "http://good.example/", "https://good.example",
	                         "http://good.example:8080", "null", "*", "" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		char h[128];
		snprintf(h, sizeof(h), "Origin: %s\r\n", others[i]);
		r = http("GET", "/stats", h, NULL);
		ck_assert_msg(r.status == 403, "Origin '%s': %d", others[i], r.status);
		expect_acao(&r, NULL, others[i]);
		tu_response_free(&r);
	}
	/* No Origin: served as usual, no CORS. */
	r = http("GET", "/stats", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	expect_acao(&r, NULL, "no Origin");
	tu_response_free(&r);
	fd = ws_try(server.port, "/ws?name=w", NULL, &r);
	ck_assert_int_ge(fd, 0);
	tu_response_free(&r);
	close(fd);
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}
END_TEST

START_TEST(origins_with_tokens)
{
	start_auth();
	char tok[1024], target[1200];
	token(tok, sizeof(tok), "alice", NULL, NULL);
	snprintf(target, sizeof(target), "/ws?name=alice&token=%s", tok);
	tu_response r;
	/* A good token from a bad origin: 403 still. */
	ck_assert_int_eq(ws_try(server.port, target, "Origin: http://evil.example\r\n", &r), -1);
	expect_403(&r, "a good token from evil");
	int fd = ws_try(server.port, target, "Origin: " GOOD_ORIGIN "\r\n", &r);
	ck_assert_int_ge(fd, 0);
	tu_response_free(&r);
	close(fd);
	/* A 401 to a listed origin carries CORS, so the page can read it. */
	r = http("GET", "/get_msg?name=alice&timeout=0", "Origin: " GOOD_ORIGIN "\r\n", NULL);
	ck_assert_int_eq(r.status, 401);
	expect_acao(&r, GOOD_ORIGIN, "401 to good");
	tu_response_free(&r);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Open by default                                                     */
/* ------------------------------------------------------------------ */

START_TEST(without_token_key_nothing_changes)
{
	server = tu_server_start(NULL);
	tu_response r = reader_request(R_AB_B1, "ann", "", "", NULL);
	expect_status(&r, 200, "/ab_b1");
	r = reader_request(R_GET_MSG, "ann", "", "", NULL);
	expect_status(&r, 200, "/get_msg");
	r = reader_request(R_SUBSCRIBE, "ann", "", "", NULL);
	expect_status(&r, 200, "/subscribe");
	r = reader_request(R_EVENTS, "ann", "", "", NULL);
	expect_status(&r, 200, "/events");
	int fd = ws_open("/ws?name=ann", NULL);
	r = http("POST", "/send_msg", NULL, "content=open&name=anyone&to=ann");
	expect_status(&r, 200, "anonymous direct /send_msg");
	json_t *m = ws_next_json(fd);
	ck_assert_str_eq(tu_json_str(m, "msg"), "open");
	ck_assert_str_eq(tu_json_str(m, "from"), "anyone");
	json_decref(m);
	close(fd);
	r = http("GET", "/stats", NULL, NULL);
	expect_status(&r, 200, "/stats");
	r = http("GET", "/presence?channel=room", NULL, NULL);
	expect_status(&r, 200, "/presence");
	/* No --allow-origin: any Origin is served, without CORS. */
	r = http("GET", "/stats", "Origin: http://evil.example\r\n", NULL);
	ck_assert_int_eq(r.status, 200);
	expect_acao(&r, NULL, "Origin without --allow-origin");
	tu_response_free(&r);
	/* A token of any kind changes nothing. */
	r = reader_request(R_GET_MSG, "ann", "", "&token=garbage", NULL);
	expect_status(&r, 200, "/get_msg with a garbage token");
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);

	/* --api-key alone: still open, and the key works. */
	make_dir();
	const char *args[] = { "--api-key", api_path, NULL };
	server = tu_server_start(args);
	r = http("POST", "/send_msg", NULL, "content=x");
	expect_status(&r, 200, "anonymous /send_msg with --api-key only");
	r = http("GET", "/stats", NULL, NULL);
	expect_status(&r, 200, "/stats with --api-key only");
	r = http("GET", "/stats", "Authorization: Bearer " API_KEY "\r\n", NULL);
	expect_status(&r, 200, "/stats with the key");
	r = reader_request(R_GET_MSG, "ann2", "", "", NULL);
	ck_assert_int_eq(r.status, 404);                /* unknown, not 401 */
	tu_response_free(&r);
	stop();
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tokens = tcase_create("tokens");
	tcase_set_timeout(tokens, 30);
	tcase_add_test(tokens, missing_token_is_401_bearer);
	tcase_add_test(tokens, a_valid_token_opens_every_transport);
	tcase_add_test(tokens, bad_tokens_are_401_invalid_token);
	tcase_add_test(tokens, alg_confusion_is_401);
	tcase_add_test(tokens, huge_tokens_are_refused_and_the_server_goes_on);
	tcase_add_test(tokens, another_name_is_403);
	tcase_add_test(tokens, channels_outside_the_token_are_403);
	tcase_add_test(tokens, publishing_follows_pub_and_from_is_the_sub);
	tcase_add_test(tokens, websocket_publishing_follows_pub);
	tcase_add_test(tokens, stats_and_presence_need_the_right_credential);
	tcase_add_test(tokens, the_lab_and_the_pages_stay_open);
	suite_add_tcase(s, tokens);
	TCase *keys = tcase_create("keys");
	tcase_set_timeout(keys, 30);
	tcase_add_test(keys, a_short_key_exits_2);
	tcase_add_test(keys, one_trailing_newline_is_stripped);
	suite_add_tcase(s, keys);
	TCase *expiry = tcase_create("expiry");
	tcase_set_timeout(expiry, 30);
	tcase_add_test(expiry, websocket_expiry_closes_1008_then_resumes);
	tcase_add_test(expiry, sse_expiry_ends_the_stream_then_resumes);
	suite_add_tcase(s, expiry);
	TCase *origins = tcase_create("origins");
	tcase_set_timeout(origins, 30);
	tcase_add_test(origins, origins_are_checked_and_echoed);
	tcase_add_test(origins, origins_with_tokens);
	tcase_add_test(origins, without_token_key_nothing_changes);
	suite_add_tcase(s, origins);
	return s;
}
