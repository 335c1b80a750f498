/*
 * check_sse.c - integration: Server-Sent Events (/events) and resume
 * (?since=, Last-Event-ID) on /get_msg, /ws and /events, against a real
 * build/pushq; and Python's standard library as an independent SSE client.
 */
#define _GNU_SOURCE /* memmem */

#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static tu_server server;

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}

/* POSTs content (form-encoded already) and checks the 200. */
static void
send_msg(const char *form_content)
{
	char body[256];
	snprintf(body, sizeof(body), "content=%s", form_content);
	tu_response r = tu_request(server.port, "POST", "/send_msg", body);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
}

static void
send_numbered(int first, int last)
{
	for (int i = first; i <= last; i++) {
		char text[16];
		snprintf(text, sizeof(text), "n%d", i);
		send_msg(text);
	}
}

/* ------------------------------------------------------------------ */
/* A raw SSE stream                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	char buf[16384];
	size_t len;
} stream;

/* Reads more bytes into s; false at EOF or after `seconds`. */
static bool
stream_fill(stream *s, double seconds)
{
	if (tu_wait_readable(s->fd, seconds) < 0 || s->len == sizeof(s->buf))
		return false;
	ssize_t n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
	if (n <= 0)
		return false;
	s->len += (size_t)n;
	return true;
}

/* The next block of the stream (up to and with its blank line) into out;
 * fails the test if none comes within `seconds`. */
static void
stream_block(stream *s, char *out, size_t cap, double seconds)
{
	double deadline = tu_now() + seconds;
	char *end;
	while ((end = memmem(s->buf, s->len, "\n\n", 2)) == NULL)
		ck_assert_msg(stream_fill(s, deadline - tu_now()), "no SSE block in time");
	size_t n = (size_t)(end + 2 - s->buf);
	ck_assert_uint_lt(n, cap);
	memcpy(out, s->buf, n);
	out[n] = '\0';
	tu_strip_sent_at(out);
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

/* Opens /events (target) with extra header lines; checks the head and
 * the first block (retry and the opening comment). */
static stream *
stream_open(const char *target, const char *extra_headers, const char *first_block)
{
	stream *s = calloc(1, sizeof(*s));
	s->fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n%s\r\n",
	         target, extra_headers ? extra_headers : "");
	tu_send_str(s->fd, req);
	char *end;
	while ((end = memmem(s->buf, s->len, "\r\n\r\n", 4)) == NULL)
		ck_assert_msg(stream_fill(s, tu_slack(5)), "no response head");
	*end = '\0';
	ck_assert_msg(strncmp(s->buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", s->buf);
	ck_assert_ptr_nonnull(strstr(s->buf, "\r\nContent-Type: text/event-stream; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(s->buf, "\r\nCache-Control: no-store\r\n"));
	ck_assert_ptr_null(strstr(s->buf, "Content-Length"));
	size_t head = (size_t)(end + 4 - s->buf);
	memmove(s->buf, s->buf + head, s->len - head);
	s->len -= head;
	char block[512];
	stream_block(s, block, sizeof(block), tu_slack(5));
	if (first_block != NULL)
		ck_assert_str_eq(block, first_block);
	return s;
}

static void
stream_close(stream *s)
{
	close(s->fd);
	free(s);
}

/* The next event's id (and its JSON in json, if not NULL). */
static long
stream_event_id(stream *s, char *json, size_t cap)
{
	char block[4096];
	stream_block(s, block, sizeof(block), tu_slack(5));
	long id;
	ck_assert_msg(sscanf(block, "id: %ld\ndata: ", &id) == 1, "not an event: %s", block);
	char *data = strstr(block, "\ndata: ") + 7;
	char want[160];
	snprintf(want, sizeof(want), "\"id\":%ld,", id);
	ck_assert_ptr_nonnull(strstr(data, want));     /* the id line matches the JSON */
	if (json != NULL)
		snprintf(json, cap, "%.*s", (int)(strchr(data, '\n') - data), data);
	return id;
}

/* "client_count":*arg in /stats. */
static bool
clients_are(void *arg)
{
	json_t *stats = tu_get_json(server.port, "/stats");
	bool yes = stats != NULL && tu_json_int(stats, "client_count") == *(long *)arg;
	json_decref(stats);
	return yes;
}

/* ------------------------------------------------------------------ */
/* SSE                                                                 */
/* ------------------------------------------------------------------ */

START_TEST(sse_frames_byte_for_byte)
{
	server = tu_server_start(NULL);
	stream *s = stream_open("/events?name=sse", NULL,
	                        "retry: 2000\n: pushq stream for sse; 0 missed before it\n\n");
	/* A message with a line feed, a carriage return and a CRLF: JSON escapes
	 * them, so the event is one data line and the browser gets it whole. */
	send_msg("one%0Atwo%0Dthree%0D%0Afour+%E4%BD%A0");
	char block[1024];
	stream_block(s, block, sizeof(block), tu_slack(5));
	ck_assert_str_eq(block, "id: 1\ndata: {\"status\":true,\"msg\":\"one\\ntwo\\rthree\\r\\nfour 你\","
	                        "\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}\n\n");
	json_t *stats = tu_get_json(server.port, "/stats");
	ck_assert_ptr_nonnull(stats);
	ck_assert_str_eq(json_string_value(json_object_get(tu_stats_client(stats, "sse"), "kind")), "sse");
	json_decref(stats);
	/* Only GET; a bad id is a clear 400. */
	tu_response r = tu_request(server.port, "POST", "/events?name=x", "a=b");
	ck_assert_int_eq(r.status, 405);
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/events?name=x&since=-1", NULL);
	ck_assert_int_eq(r.status, 400);
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/events", NULL);
	ck_assert_int_eq(r.status, 400);
	tu_response_free(&r);
	stream_close(s);
	stop();
}
END_TEST

START_TEST(sse_heartbeat_on_a_quiet_stream)
{
	server = tu_server_start((const char *[]){ "--sse-heartbeat", "0.2", NULL });
	stream *s = stream_open("/events?name=quiet", NULL, NULL);
	char block[256];
	double t0 = tu_now();
	stream_block(s, block, sizeof(block), tu_slack(3));
	ck_assert_str_eq(block, ": keep-alive\n\n");
	ck_assert_double_lt(tu_now() - t0, tu_slack(2));
	send_msg("after");
	ck_assert_int_eq(stream_event_id(s, NULL, 0), 1);
	stream_close(s);
	stop();
}
END_TEST

START_TEST(sse_ends_at_once_on_sigterm)
{
	server = tu_server_start(NULL);
	stream *s = stream_open("/events?name=bye", NULL, NULL);
	double t0 = tu_now();
	kill(server.pid, SIGTERM);
	char byte;
	ck_assert_double_ge(tu_wait_readable(s->fd, tu_slack(3)), 0);
	ck_assert_int_le(recv(s->fd, &byte, 1, 0), 0);        /* closed */
	ck_assert_double_lt(tu_now() - t0, tu_slack(2));
	stream_close(s);
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}
END_TEST

/* The browser's reconnect: Last-Event-ID gives every message after it once. */
START_TEST(sse_resumes_from_last_event_id)
{
	server = tu_server_start(NULL);
	stream *s = stream_open("/events?name=re", NULL, NULL);
	send_numbered(1, 3);
	for (long id = 1; id <= 3; id++)
		ck_assert_int_eq(stream_event_id(s, NULL, 0), id);
	stream_close(s);                     /* the connection is cut */
	send_numbered(4, 6);
	/* The header wins over an older ?since= in the URL. */
	s = stream_open("/events?name=re&since=1", "Last-Event-ID: 3\r\n", NULL);
	for (long id = 4; id <= 6; id++)
		ck_assert_int_eq(stream_event_id(s, NULL, 0), id);
	send_numbered(7, 7);
	ck_assert_int_eq(stream_event_id(s, NULL, 0), 7);
	stream_close(s);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resume on /get_msg and /ws                                          */
/* ------------------------------------------------------------------ */

/* GET /get_msg?name=NAME&since=SINCE&timeout=0: the JSON answer. */
static tu_response
get_since(const char *name, long since)
{
	char target[128];
	if (since < 0)
		snprintf(target, sizeof(target), "/get_msg?name=%s&timeout=0", name);
	else
		snprintf(target, sizeof(target), "/get_msg?name=%s&since=%ld&timeout=0", name, since);
	tu_response r = tu_request(server.port, "GET", target, NULL);
	ck_assert_int_eq(r.status, 200);
	return r;
}

static void
expect_get(const char *name, long since, const char *json_part)
{
	tu_response r = get_since(name, since);
	tu_strip_sent_at(r.body);
	ck_assert_msg(strstr(r.body, json_part) != NULL, "%s lacks %s", r.body, json_part);
	tu_response_free(&r);
}

/* A client forgotten by the reaper comes back by resuming. */
START_TEST(get_msg_resumes_a_reaped_client)
{
	server = tu_server_start((const char *[]){ "--client-ttl", "0.2", NULL });
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=gone", NULL);
	tu_response_free(&r);
	send_numbered(1, 1);
	expect_get("gone", -1, "\"id\":1,");
	long none = 0;
	ck_assert(tu_wait_until(clients_are, &none, tu_slack(5)));   /* reaped */
	send_numbered(2, 3);
	r = tu_request(server.port, "GET", "/get_msg?name=gone&timeout=0", NULL);
	ck_assert_int_eq(r.status, 404);                  /* without since: unknown */
	tu_response_free(&r);
	expect_get("gone", 1, "\"msg\":\"n2\",\"id\":2,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	expect_get("gone", 2, "\"msg\":\"n3\",\"id\":3,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	expect_get("gone", 3, "{\"status\":false,\"msg\":\"\"}");
	r = tu_request(server.port, "GET", "/get_msg?name=gone&since=x", NULL);
	ck_assert_int_eq(r.status, 400);
	tu_response_free(&r);
	stop();
}
END_TEST

/* A history of 3 and a queue of 2, ten messages: the queue's two, then
 * "missed":5, then the history's three.  delivered + missed = 10. */
START_TEST(get_msg_resume_counts_missed_exactly)
{
	server = tu_server_start((const char *[]){ "--history", "3", "--queue-size", "2", NULL });
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=m", NULL);
	tu_response_free(&r);
	send_numbered(1, 10);                /* queue 1 2 (8 dropped); history 8 9 10 */
	expect_get("m", 0, "\"id\":1,\"from\":\"\",\"channel\":\"room\",\"missed\":5,\"dropped\":0}");
	expect_get("m", 1, "\"id\":2,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	expect_get("m", 2, "\"id\":8,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	expect_get("m", -1, "\"id\":9,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");   /* since is optional */
	expect_get("m", 9, "\"id\":10,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	json_t *stats = tu_get_json(server.port, "/stats");
	ck_assert_ptr_nonnull(stats);
	ck_assert_int_eq(tu_json_int(stats, "messages.missed"), 5);
	json_decref(stats);
	stop();
}
END_TEST

/* Drops without a resume are told as "dropped"; a resume recovers them
 * from the history instead: either way the counts add up. */
START_TEST(drops_and_resume_add_up)
{
	server = tu_server_start((const char *[]){ "--queue-size", "2", NULL });
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=d", NULL);
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/ab_b1?name=e", NULL);
	tu_response_free(&r);
	send_numbered(1, 5);                 /* each queue: 1 2; dropped 3 4 5 */
	expect_get("d", -1, "\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":3}");
	expect_get("d", -1, "\"id\":2,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	/* e resumes instead: all five, nothing dropped or missed. */
	for (long id = 1; id <= 5; id++) {
		char want[160];
		snprintf(want, sizeof(want), "\"id\":%ld,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}", id);
		expect_get("e", id - 1, want);
	}
	stop();
}
END_TEST

START_TEST(ws_resumes_with_since)
{
	server = tu_server_start(NULL);
	send_numbered(1, 5);
	int ws = wsf_connect(server.port, "/ws?name=late&since=3");
	for (long id = 4; id <= 5; id++) {
		uint8_t *p;
		size_t len;
		ck_assert_int_eq(wsf_read(ws, &p, &len), 0x1);
		char want[160];
		snprintf(want, sizeof(want), "\"id\":%ld,", id);
		ck_assert_msg(strstr((char *)p, want) != NULL, "%s lacks %s", p, want);
		free(p);
	}
	send_numbered(6, 6);
	uint8_t *p;
	size_t len;
	ck_assert_int_eq(wsf_read(ws, &p, &len), 0x1);
	ck_assert_ptr_nonnull(strstr((char *)p, "\"id\":6,"));
	free(p);
	close(ws);
	tu_response r = tu_request(server.port, "GET", "/ws?name=x&since=1.5", NULL);
	ck_assert_int_eq(r.status, 400);
	tu_response_free(&r);
	stop();
}
END_TEST

/* Python's standard library, a client nobody here wrote, reads the stream
 * (its own WHATWG parser) and reconnects with Last-Event-ID. */
START_TEST(sse_python_client)
{
	server = tu_server_start(NULL);
	int status = tu_run_python("test/sse_client.py", server.port);
	ck_assert_msg(status == 0, "test/sse_client.py failed (exit %d)", status);
	stop();
}
END_TEST

Suite *
sse_suite(void)
{
	Suite *s = suite_create("sse");
	TCase *tc = tcase_create("sse");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sse_frames_byte_for_byte);
	tcase_add_test(tc, sse_heartbeat_on_a_quiet_stream);
	tcase_add_test(tc, sse_ends_at_once_on_sigterm);
	tcase_add_test(tc, sse_resumes_from_last_event_id);
	tcase_add_test(tc, get_msg_resumes_a_reaped_client);
	tcase_add_test(tc, get_msg_resume_counts_missed_exactly);
	tcase_add_test(tc, drops_and_resume_add_up);
	tcase_add_test(tc, ws_resumes_with_since);
	tcase_add_test(tc, sse_python_client);
	suite_add_tcase(s, tc);
	return s;
}
