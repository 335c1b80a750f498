/*
 * check_tokens.c - integration: tokens, the API key and origins over real
 * sockets (docs/api.md, "Tokens and origins").  Each test starts
 * build/pushq with key files it writes into $TMPDIR, makes tokens with
 * http/jwt.c (and forges bad ones the way an attacker would), and checks
 * every answer: status, WWW-Authenticate and the JSON error.
 */
#include "http/jwt.h"
#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char KEY[] = "tokens-suite-secret-of-32-bytes!";
static const char API_KEY[] = "backend-key-for-the-suite";
static tu_server server;
static char key_path[96], api_path[96];

/* Writes `text` (+ a newline when asked) into a fresh file named after
 * `what`, our PID and a counter; its path into path[96]. */
static void
write_file(char *path, const char *what, const char *text, bool newline)
{
	static int n;
	const char *tmp = getenv("TMPDIR");
	snprintf(path, 96, "%.40s/pushq-%s-%d-%d", tmp ? tmp : "/tmp", what, (int)getpid(), n++);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s%s", text, newline ? "\n" : "");
	fclose(f);
}

static void
start_with(const char *const *more)
{
	write_file(key_path, "key", KEY, true);       /* a trailing newline: stripped */
	write_file(api_path, "api", API_KEY, false);
	const char *args[16] = { "--token-key", key_path, "--api-key", api_path,
	                         "--allow-origin", "http://good.example" };
	int n = 6;
	for (int i = 0; more != NULL && more[i] != NULL; i++)
		args[n++] = more[i];
	args[n] = NULL;
	server = tu_server_start(args);
}

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
	unlink(key_path);
	unlink(api_path);
}

/* A token for sub (exp `ttl` seconds from now), channels and pub as
 * comma lists (NULL: absent). */
static void
token(char *out, const char *sub, double ttl, const char *channels, const char *pub)
{
	jwt_claims c = { .exp = (double)time(NULL) + ttl };
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	const char *lists[2] = { channels, pub };
	jwt_list *into[2] = { &c.channels, &c.pub };
	for (int k = 0; k < 2; k++) {
		for (const char *p = lists[k]; p != NULL && *p != '\0';) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			memcpy(into[k]->names[into[k]->n], p, len);
			into[k]->names[into[k]->n++][len] = '\0';
			p = comma ? comma + 1 : p + len;
		}
	}
	c.has_channels = channels != NULL;
	ck_assert(jwt_sign(&c, (const uint8_t *)KEY, strlen(KEY), out, JWT_MAX_LEN));
}

/* A token with this header and payload, "signed" with md over the key. */
static void
forge(char *out, const char *header, const char *payload, const EVP_MD *md)
{
	char h[256], p[256];
	tu_b64url(header, strlen(header), h);
	tu_b64url(payload, strlen(payload), p);
	int n = sprintf(out, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	HMAC(md, KEY, (int)strlen(KEY), (const unsigned char *)out, (size_t)n, mac, &mac_len);
	out[n++] = '.';
	tu_b64url((const char *)mac, mac_len, out + n);
}

/* GET or POST, answered `status` with "error" containing `error_part`
 * (NULL: not checked); the response is returned for more checks. */
static tu_response
expect_refusal(const char *method, const char *target, const char *body, int status,
               const char *error_part)
{
	tu_response r = tu_request(server.port, method, target, body);
	ck_assert_msg(r.status == status, "%s %s: %d, wanted %d: %s", method, target, r.status,
	              status, r.body);
	if (error_part != NULL)
		ck_assert_msg(strstr(r.body, error_part) != NULL, "%s %s: %s lacks %s", method, target,
		              r.body, error_part);
	return r;
}

static void
refused(const char *method, const char *target, const char *body, int status, const char *error_part)
{
	tu_response r = expect_refusal(method, target, body, status, error_part);
	tu_response_free(&r);
}

static void
allowed(const char *method, const char *target, const char *body)
{
	tu_response r = tu_request(server.port, method, target, body);
	ck_assert_msg(r.status == 200, "%s %s: %d %s", method, target, r.status, r.body);
	tu_response_free(&r);
}

/* ------------------------------------------------------------------ */

START_TEST(key_files)
{
	char err[256], path[96];
	write_file(path, "short", "only-thirty-one-bytes-long-here", false);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--token-key", path, NULL }, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "at least 32") != NULL, "%s", err);
	unlink(path);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--token-key", "/nonexistent/key", NULL }, err,
	                              sizeof(err)), 2);
	/* The server's key file ends in a newline: a token made without it works. */
	start_with(NULL);
	char t[JWT_MAX_LEN], target[JWT_MAX_LEN + 64];
	token(t, "alice", 60, NULL, NULL);
	snprintf(target, sizeof(target), "/ab_b1?name=alice&token=%s", t);
	allowed("GET", target, NULL);
	stop();
}
END_TEST

START_TEST(reading_as_a_name)
{
	start_with(NULL);
	char t[JWT_MAX_LEN], target[JWT_MAX_LEN + 128];
	tu_response r = expect_refusal("GET", "/ab_b1?name=alice", NULL, 401, "a token is needed");
	char www[128] = "";
	ck_assert(tu_header(&r, "WWW-Authenticate", www, sizeof(www)));
	ck_assert_str_eq(www, "Bearer");
	tu_response_free(&r);
	token(t, "alice", 60, "room,news", NULL);
	snprintf(target, sizeof(target), "/ab_b1?name=alice&token=%s", t);
	allowed("GET", target, NULL);
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s", t);
	allowed("GET", target, NULL);
	/* The token in the header works as well. */
	char auth[JWT_MAX_LEN + 160];
	snprintf(auth, sizeof(auth), "GET /get_msg?name=alice&timeout=0 HTTP/1.1\r\nHost: t\r\n"
	         "Authorization: Bearer %s\r\n\r\n", t);
	int fd = tu_connect(server.port);
	tu_send_str(fd, auth);
	tu_response h = tu_read_response(fd, 0);
	ck_assert_int_eq(h.status, 200);
	tu_response_free(&h);
	close(fd);
	/* Another name, a channel it may not join. */
	snprintf(target, sizeof(target), "/get_msg?name=bob&timeout=0&token=%s", t);
	refused("GET", target, NULL, 403, "another name");
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&channels=secret&token=%s", t);
	refused("GET", target, NULL, 403, "channel not allowed");
	snprintf(target, sizeof(target), "name=alice&channel=secret&token=%s", t);
	refused("POST", "/subscribe", target, 403, "channel not allowed");
	snprintf(target, sizeof(target), "name=alice&channel=news&token=%s", t);
	allowed("POST", "/subscribe", target);
	allowed("POST", "/unsubscribe", target);
	refused("POST", "/subscribe", "name=alice&channel=news", 401, "a token is needed");
	/* Expired, not yet valid, malformed, truncated, a payload changed. */
	token(t, "alice", -10, NULL, NULL);
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s", t);
	r = expect_refusal("GET", target, NULL, 401, "expired");
	ck_assert(tu_header(&r, "WWW-Authenticate", www, sizeof(www)));
	ck_assert_str_eq(www, "Bearer error=\"invalid_token\"");
	tu_response_free(&r);
	char payload[128];
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%ld,\"nbf\":%ld}",
	         (long)time(NULL) + 600, (long)time(NULL) + 300);
	forge(t, "{\"alg\":\"HS256\"}", payload, EVP_sha256());
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s", t);
	refused("GET", target, NULL, 401, "not yet valid");
	refused("GET", "/get_msg?name=alice&timeout=0&token=not.a.token", NULL, 401, "malformed");
	token(t, "alice", 60, NULL, NULL);
	t[strlen(t) - 7] = '\0';
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s", t);
	refused("GET", target, NULL, 401, NULL);
	token(t, "alice", 60, NULL, NULL);
	char *dot = strchr(t, '.');
	char bob[128], tampered[JWT_MAX_LEN];
	snprintf(payload, sizeof(payload), "{\"sub\":\"bob\",\"exp\":%ld}", (long)time(NULL) + 60);
	tu_b64url(payload, strlen(payload), bob);
	snprintf(tampered, sizeof(tampered), "%.*s.%s%s", (int)(dot - t), t, bob, strchr(dot + 1, '.'));
	snprintf(target, sizeof(target), "/get_msg?name=bob&timeout=0&token=%s", tampered);
	refused("GET", target, NULL, 401, "signature");
	stop();
}
END_TEST

/* The token never chooses how it is checked. */
START_TEST(algorithm_confusion)
{
	start_with(NULL);
	char t[JWT_MAX_LEN], target[JWT_MAX_LEN + 64], payload[96];
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%ld}", (long)time(NULL) + 600);
	static const char *const headers[] = { "{\"alg\":\"none\"}", "{\"alg\":\"HS512\"}",
	                                       "{\"alg\":\"RS256\"}", "{\"typ\":\"JWT\"}",
	                                       "{\"alg\":\"hs256\"}" };
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		forge(t, headers[i], payload, strstr(headers[i], "512") ? EVP_sha512() : EVP_sha256());
		snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s", t);
		refused("GET", target, NULL, 401, "algorithm");
	}
	/* alg none with no signature at all. */
	char h[64], p[160];
	tu_b64url("{\"alg\":\"none\"}", 14, h);
	tu_b64url(payload, strlen(payload), p);
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s.%s.", h, p);
	refused("GET", target, NULL, 401, "algorithm");
	/* A 16 KiB token: refused without harm, and the server goes on. */
	static char big[17000];
	int n = snprintf(big, sizeof(big), "GET /get_msg?name=alice&timeout=0&token=");
	memset(big + n, 'A', 16384);
	snprintf(big + n + 16384, sizeof(big) - (size_t)n - 16384, " HTTP/1.1\r\nHost: t\r\n\r\n");
	int fd = tu_connect(server.port);
	tu_send_str(fd, big);
	tu_response r = tu_read_response(fd, 0);
	close(fd);
	ck_assert_msg(r.status == 414 || r.status == 431 || r.status == 401, "16 KiB token: %d", r.status);
	tu_response_free(&r);
	allowed("GET", "/ab_dy", NULL);
	stop();
}
END_TEST

START_TEST(publishing)
{
	start_with(NULL);
	char t[JWT_MAX_LEN], body[JWT_MAX_LEN + 128], target[JWT_MAX_LEN + 64];
	token(t, "alice", 60, "room,news", "news");
	snprintf(target, sizeof(target), "/ab_b1?name=alice&token=%s", t);
	allowed("GET", target, NULL);
	refused("POST", "/send_msg", "content=hi", 401, "needed to publish");
	snprintf(body, sizeof(body), "content=hi&channel=room&token=%s", t);
	refused("POST", "/send_msg", body, 403, "may not publish");
	snprintf(body, sizeof(body), "content=hi&to=alice&token=%s", t);
	refused("POST", "/send_msg", body, 403, "only the API key");
	/* from is the token's sub, whatever name= says. */
	snprintf(body, sizeof(body), "content=forged&channel=news&name=mallory&token=%s", t);
	allowed("POST", "/send_msg", body);
	snprintf(target, sizeof(target), "/get_msg?name=alice&timeout=0&token=%s", t);
	tu_response r = tu_request(server.port, "GET", target, NULL);
	ck_assert_msg(strstr(r.body, "\"msg\":\"forged\"") != NULL && strstr(r.body, "\"from\":\"alice\"") != NULL,
	              "%s", r.body);
	tu_response_free(&r);
	/* The API key: a direct message from any name. */
	int fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req), "POST /send_msg HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
	         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 34\r\n\r\n"
	         "content=shipped&to=alice&name=shop", API_KEY);
	tu_send_str(fd, req);
	r = tu_read_response(fd, 0);
	ck_assert_msg(r.status == 200, "API key send: %d %s", r.status, r.body);
	tu_response_free(&r);
	close(fd);
	r = tu_request(server.port, "GET", target, NULL);
	ck_assert_msg(strstr(r.body, "\"from\":\"shop\",\"to\":\"alice\"") != NULL, "%s", r.body);
	tu_response_free(&r);
	/* /stats needs the API key; /presence the key or a token with the channel. */
	refused("GET", "/stats", NULL, 401, "API key");
	snprintf(target, sizeof(target), "/presence?channel=news&token=%s", t);
	allowed("GET", target, NULL);
	snprintf(target, sizeof(target), "/presence?channel=other&token=%s", t);
	refused("GET", target, NULL, 403, "channel not allowed");
	/* The lab holds no chat data: open. */
	tu_response lab = tu_request(server.port, "POST", "/lab/new?maxsize=2", "");
	ck_assert_int_eq(lab.status, 201);
	tu_response_free(&lab);
	stop();
}
END_TEST

/* The id of the message in a WebSocket text frame. */
static long
frame_id(int fd)
{
	uint8_t *p;
	size_t len;
	ck_assert_int_eq(wsf_read(fd, &p, &len), 0x1);
	json_t *j = json_loadb((const char *)p, len, 0, NULL);
	free(p);
	long id = (long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

/* A token that ends mid-session: close 1008; a new token resumes with
 * everything sent meanwhile, exactly once. */
START_TEST(websocket_expiry_then_resume)
{
	start_with(NULL);
	char t[JWT_MAX_LEN], target[JWT_MAX_LEN + 96], body[JWT_MAX_LEN + 64];
	/* No token: refused before any 101. */
	int raw = tu_connect(server.port);
	tu_send_str(raw, "GET /ws?name=wes HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
	            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
	tu_response no = tu_read_response(raw, 0);
	ck_assert_int_eq(no.status, 401);
	tu_response_free(&no);
	close(raw);
	token(t, "wes", 2, "room", NULL);
	snprintf(target, sizeof(target), "/ws?name=wes&token=%s", t);
	int fd = wsf_connect(server.port, target);
	int api = tu_connect(server.port);
	char req[256];
	snprintf(req, sizeof(req), "POST /send_msg HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
	         "Content-Length: 9\r\n\r\ncontent=1", API_KEY);
	tu_send_str(api, req);
	tu_response r = tu_read_response(api, 0);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
	long seen = frame_id(fd);
	ck_assert_int_eq(seen, 1);
	double started = tu_now();
	ck_assert_int_eq(wsf_read_close_code(fd), 1008);
	ck_assert_msg(tu_now() - started < tu_slack(4), "closed %.1f s after", tu_now() - started);
	close(fd);
	for (int i = 2; i <= 4; i++) {
		snprintf(req, sizeof(req), "POST /send_msg HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		         "Content-Length: 9\r\n\r\ncontent=%d", API_KEY, i);
		tu_send_str(api, req);
		r = tu_read_response(api, 0);
		ck_assert_int_eq(r.status, 200);
		tu_response_free(&r);
	}
	close(api);
	token(t, "wes", 60, "room", NULL);
	snprintf(target, sizeof(target), "/ws?name=wes&since=%ld&token=%s", seen, t);
	fd = wsf_connect(server.port, target);
	for (long want = 2; want <= 4; want++)
		ck_assert_int_eq(frame_id(fd), want);
	close(fd);
	(void)body;
	stop();
}
END_TEST

/* An SSE stream ends when its token does. */
START_TEST(sse_expiry)
{
	start_with(NULL);
	char t[JWT_MAX_LEN], req[JWT_MAX_LEN + 128];
	token(t, "sia", 2, NULL, NULL);
	int fd = tu_connect(server.port);
	snprintf(req, sizeof(req), "GET /events?name=sia&token=%s HTTP/1.1\r\nHost: t\r\n\r\n", t);
	tu_send_str(fd, req);
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	double started = tu_now();
	while ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0 && got + (size_t)n < sizeof(buf) - 1)
		got += (size_t)n;
	buf[got] = '\0';
	ck_assert_msg(strstr(buf, "HTTP/1.1 200") == buf, "%s", buf);
	ck_assert_msg(strstr(buf, ": token expired") != NULL, "%s", buf);
	ck_assert_msg(tu_now() - started < tu_slack(6), "ended after %.1f s", tu_now() - started);
	close(fd);
	stop();
}
END_TEST

START_TEST(origins)
{
	start_with(NULL);
	char t[JWT_MAX_LEN], req[JWT_MAX_LEN + 512];
	token(t, "oli", 60, NULL, NULL);
	/* A WebSocket from another site: 403, no 101. */
	int fd = tu_connect(server.port);
	snprintf(req, sizeof(req), "GET /ws?name=oli&token=%s HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.example\r\n"
	         "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", t);
	tu_send_str(fd, req);
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 403);
	ck_assert(strstr(r.body, "origin not allowed") != NULL);
	tu_response_free(&r);
	close(fd);
	/* The good origin: its name echoed, never "*"; a preflight: 204. */
	fd = tu_connect(server.port);
	tu_send_str(fd, "GET /ab_dy HTTP/1.1\r\nHost: t\r\nOrigin: http://good.example\r\n\r\n");
	r = tu_read_response(fd, 0);
	char acao[128] = "";
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_header(&r, "Access-Control-Allow-Origin", acao, sizeof(acao)));
	ck_assert_str_eq(acao, "http://good.example");
	tu_response_free(&r);
	tu_send_str(fd, "OPTIONS /send_msg HTTP/1.1\r\nHost: t\r\nOrigin: http://good.example\r\n"
	            "Access-Control-Request-Method: POST\r\n\r\n");
	r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 204);
	char methods[64] = "";
	ck_assert(tu_header(&r, "Access-Control-Allow-Methods", methods, sizeof(methods)));
	ck_assert(strstr(methods, "POST") != NULL);
	tu_response_free(&r);
	close(fd);
	/* No Origin (curl, a backend): served. */
	allowed("GET", "/ab_dy", NULL);
	stop();
}
END_TEST

/* Without --token-key: the tutorial's open classroom, as before. */
START_TEST(open_by_default)
{
	server = tu_server_start(NULL);
	allowed("GET", "/ab_b1?name=any", NULL);
	allowed("GET", "/get_msg?name=any&timeout=0", NULL);
	allowed("POST", "/send_msg", "content=hi&name=anyone");
	allowed("GET", "/stats", NULL);
	int fd = wsf_connect(server.port, "/ws?name=any");
	close(fd);
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}
END_TEST

Suite *
tokens_suite(void)
{
	Suite *s = suite_create("tokens");
	TCase *tc = tcase_create("tokens");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, key_files);
	tcase_add_test(tc, reading_as_a_name);
	tcase_add_test(tc, algorithm_confusion);
	tcase_add_test(tc, publishing);
	tcase_add_test(tc, websocket_expiry_then_resume);
	tcase_add_test(tc, sse_expiry);
	tcase_add_test(tc, origins);
	tcase_add_test(tc, open_by_default);
	suite_add_tcase(s, tc);
	return s;
}
