/*
 * check_presence.c - GET /presence and --presence-events against a real
 * build/pushq: who is online in a channel, of which kind, since when, and
 * the join/leave messages.  Part of the channels suite (check_channels.c).
 */
#define _GNU_SOURCE /* memmem */

#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static tu_server server;

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}

static long long
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
get_ok(const char *target)
{
	tu_response r = tu_request(server.port, "GET", target, NULL);
	ck_assert_msg(r.status == 200, "%s answered %d", target, r.status);
	tu_response_free(&r);
}

/* POST /send_msg body: 200 with "receivers":receivers (-1: any). */
static void
send_msg(const char *body, long receivers)
{
	int status;
	json_t *j = tu_request_json(server.port, "POST", "/send_msg", body, &status);
	ck_assert_msg(status == 200, "send %s: %d", body, status);
	if (receivers >= 0)
		ck_assert_int_eq(tu_json_int(j, "receivers"), receivers);
	json_decref(j);
}

/* GET /presence?channel=C: the 200's JSON. */
static json_t *
presence(const char *channel)
{
	char target[256];
	snprintf(target, sizeof(target), "/presence?channel=%s", channel);
	json_t *j = tu_get_json(server.port, target);
	ck_assert_msg(j != NULL, "%s did not answer 200", target);
	return j;
}

/* "name:kind,..." of a /presence answer, in its order. */
static const char *
listed(const json_t *p, char *out, size_t cap)
{
	out[0] = '\0';
	json_t *clients = json_object_get(p, "clients"), *c;
	ck_assert(json_is_array(clients));
	size_t i;
	json_array_foreach(clients, i, c) {
		snprintf(out + strlen(out), cap - strlen(out), "%s%s:%s", i > 0 ? "," : "",
		         tu_json_str(c, "name"), tu_json_str(c, "kind"));
	}
	return out;
}

/* The channel's presence is exactly `want` ("name:kind,..."). */
typedef struct {
	const char *channel;
	const char *want;
} presence_is_arg;

static bool
presence_is(void *arg)
{
	presence_is_arg *a = arg;
	json_t *p = presence(a->channel);
	char got[4096];
	bool yes = strcmp(listed(p, got, sizeof(got)), a->want) == 0;
	json_decref(p);
	return yes;
}

#define ck_assert_presence_becomes(channel_, want_, seconds_) do { \
	presence_is_arg a_ = { channel_, want_ }; \
	if (!tu_wait_until(presence_is, &a_, seconds_)) { \
		json_t *p_ = presence(channel_); \
		char got_[4096]; \
		ck_abort_msg("presence of %s is [%s], not [%s]", channel_, \
		             listed(p_, got_, sizeof(got_)), want_); \
	} \
} while (0)

/* Checks the whole answer: channel, count, the list, each since. */
static void
check_presence(const char *channel, const char *want, long count, long long not_before)
{
	json_t *p = presence(channel);
	char got[4096];
	ck_assert_str_eq(tu_json_str(p, "channel"), channel);
	ck_assert_int_eq(tu_json_int(p, "count"), count);
	ck_assert_str_eq(listed(p, got, sizeof(got)), want);
	ck_assert_int_eq(json_array_size(json_object_get(p, "clients")), count);
	ck_assert_ptr_null(json_object_get(p, "truncated"));
	json_t *c;
	size_t i;
	long long now = wall_ms();
	json_array_foreach(json_object_get(p, "clients"), i, c) {
		ck_assert_uint_eq(json_object_size(c), 3);           /* name, kind, since */
		long long since = tu_json_int(c, "since");
		ck_assert_msg(since >= not_before - 1000 && since <= now + 1000,
		              "since %lld is not between %lld and %lld", since, not_before, now);
	}
	json_decref(p);
}

/* An SSE stream kept open, its head read (its events are not). */
static int
sse_open(const char *target)
{
	int fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
	tu_send_str(fd, req);
	tu_response r = tu_read_response(fd, 1);
	ck_assert_msg(r.status == 200, "%s answered %d", target, r.status);
	tu_response_free(&r);
	return fd;
}

static int
long_poll_start(const char *query)
{
	int fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req), "GET /get_msg?%s HTTP/1.1\r\nHost: t\r\n\r\n", query);
	tu_send_str(fd, req);
	return fd;
}

/* The long poll's answer (200), as JSON. */
static json_t *
long_poll_answer(int fd)
{
	ck_assert_msg(tu_wait_readable(fd, tu_slack(12)) >= 0, "the long poll did not answer");
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", r.body);
	tu_response_free(&r);
	return j;
}

static void
ws_close(int fd)
{
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0x8,
	                           .payload = (const uint8_t *)"\x03\xe8", .len = 2 });
	ck_assert_int_eq(wsf_read_close_code(fd), 1000);
	close(fd);
}

static bool
waits(void *name)
{
	return tu_client_stat(server.port, name, "waiting") == 1;
}

/* ------------------------------------------------------------------ */

START_TEST(presence_lists_who_is_online)
{
	server = tu_server_start(NULL);
	long long t0 = wall_ms();
	get_ok("/ab_b1?name=idle&channels=lobby");             /* never polls: not online */
	int zed = wsf_connect(server.port, "/ws?name=zed&channels=lobby,hall");
	int amy = sse_open("/events?name=amy&channels=lobby");
	int out = sse_open("/events?name=elsewhere&channels=hall");
	get_ok("/ab_b1?name=mo&channels=lobby");
	int mo = long_poll_start("name=mo");
	ck_assert(tu_wait_until(waits, "mo", tu_slack(5)));
	ck_assert_presence_becomes("lobby", "amy:sse,mo:poll,zed:ws", tu_slack(5));
	ck_assert_presence_becomes("hall", "elsewhere:sse,zed:ws", tu_slack(5));
	check_presence("lobby", "amy:sse,mo:poll,zed:ws", 3, t0);
	check_presence("hall", "elsewhere:sse,zed:ws", 2, t0);
	/* Nobody there, or no such channel yet: an empty list. */
	json_t *p = presence("void");
	ck_assert_str_eq(tu_json_str(p, "channel"), "void");
	ck_assert_int_eq(tu_json_int(p, "count"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(p, "clients")), 0);
	json_decref(p);
	/* Bad or missing channel: 400. */
	const char *bad[] = { "/presence?channel=bad!x", "/presence?channel=", "/presence",
	                      "/presence?channel=a,b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status;
		json_t *j = tu_request_json(server.port, "GET", bad[i], NULL, &status);
		ck_assert_msg(status == 400, "%s answered %d", bad[i], status);
		ck_assert_str_eq(tu_json_str(j, "error"), "bad channel name");
		json_decref(j);
	}
	/* A poll answered a moment ago is still online. */
	send_msg("content=for-mo&to=mo", 1);
	json_t *m = long_poll_answer(mo);
	ck_assert_str_eq(tu_json_str(m, "msg"), "for-mo");
	json_decref(m);
	close(mo);
	check_presence("lobby", "amy:sse,mo:poll,zed:ws", 3, t0);
	/* A closed WebSocket leaves within a few seconds; then the SSE. */
	ws_close(zed);
	ck_assert_presence_becomes("lobby", "amy:sse,mo:poll", tu_slack(5));
	check_presence("hall", "elsewhere:sse", 1, t0);
	close(amy);
	ck_assert_presence_becomes("lobby", "mo:poll", tu_slack(5));
	close(out);
	ck_assert_presence_becomes("hall", "", tu_slack(5));
	/* Leaving a channel leaves its presence. */
	int re = sse_open("/events?name=amy&channels=lobby");
	ck_assert_presence_becomes("lobby", "amy:sse,mo:poll", tu_slack(5));
	int status;
	json_t *j = tu_request_json(server.port, "POST", "/unsubscribe", "name=amy&channel=lobby", &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	check_presence("lobby", "mo:poll", 1, t0);
	close(re);
	stop();
}
END_TEST

/* One name with several connections is listed once: ws, else sse, else poll. */
START_TEST(presence_lists_a_name_once)
{
	server = tu_server_start(NULL);
	long long t0 = wall_ms();
	get_ok("/ab_b1?name=dup&channels=lobby");
	int poll = long_poll_start("name=dup");
	ck_assert(tu_wait_until(waits, "dup", tu_slack(5)));
	check_presence("lobby", "dup:poll", 1, t0);
	int sse = sse_open("/events?name=dup");
	ck_assert_presence_becomes("lobby", "dup:sse", tu_slack(5));
	check_presence("lobby", "dup:sse", 1, t0);
	int ws = wsf_connect(server.port, "/ws?name=dup");
	ck_assert_presence_becomes("lobby", "dup:ws", tu_slack(5));
	check_presence("lobby", "dup:ws", 1, t0);
	ws_close(ws);
	ck_assert_presence_becomes("lobby", "dup:sse", tu_slack(5));
	close(sse);
	ck_assert_presence_becomes("lobby", "dup:poll", tu_slack(5));   /* still waiting */
	close(poll);
	stop();
}
END_TEST

/* A poll counts as online for --poll-timeout after its answer, then not. */
START_TEST(presence_poll_lasts_poll_timeout)
{
	server = tu_server_start((const char *[]){ "--poll-timeout", "1", NULL });
	get_ok("/ab_b1?name=sp&channels=pc");
	ck_assert_presence_becomes("pc", "", 0);                 /* registered only */
	double asked = tu_now();
	int status;
	json_t *j = tu_request_json(server.port, "GET", "/get_msg?name=sp&timeout=0", NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert(json_is_false(json_object_get(j, "status")));
	json_decref(j);
	check_presence("pc", "sp:poll", 1, wall_ms() - 5000);
	ck_assert_presence_becomes("pc", "", tu_slack(5));
	ck_assert_double_ge(tu_now() - asked, 0.95);
	stop();
}
END_TEST

/* At most 1000 listed, by name; count stays exact; "truncated":true. */
START_TEST(presence_truncates_at_1000)
{
	server = tu_server_start((const char *[]){ "--poll-timeout", "120", NULL });
	int fd = tu_connect(server.port);
	for (int i = 0; i <= 1000; i++) {
		int n = (i * 7919) % 1001;              /* not in name order */
		char req[256];
		snprintf(req, sizeof(req), "GET /ab_b1?name=p%04d&channels=big HTTP/1.1\r\nHost: t\r\n\r\n"
		         "GET /get_msg?name=p%04d&timeout=0 HTTP/1.1\r\nHost: t\r\n\r\n", n, n);
		tu_send_str(fd, req);
		tu_response r = tu_read_response(fd, 0);
		ck_assert_int_eq(r.status, 200);
		tu_response_free(&r);
		r = tu_read_response(fd, 0);
		ck_assert_int_eq(r.status, 200);
		tu_response_free(&r);
	}
	close(fd);
	json_t *p = presence("big");
	ck_assert_int_eq(tu_json_int(p, "count"), 1001);
	ck_assert(json_is_true(json_object_get(p, "truncated")));
	json_t *clients = json_object_get(p, "clients");
	ck_assert_int_eq(json_array_size(clients), 1000);
	for (size_t i = 0; i < 1000; i++) {
		char want[16];
		snprintf(want, sizeof(want), "p%04zu", i);
		ck_assert_str_eq(tu_json_str(json_array_get(clients, i), "name"), want);
		ck_assert_str_eq(tu_json_str(json_array_get(clients, i), "kind"), "poll");
	}
	json_decref(p);
	stop();
}
END_TEST

/* --presence-events: the observer's next message (a long poll). */
static json_t *
next_message(const char *name)
{
	char query[128];
	snprintf(query, sizeof(query), "name=%s&timeout=10", name);
	double deadline = tu_now() + tu_slack(8);
	for (;;) {
		json_t *m = long_poll_answer(long_poll_start(query));
		if (json_is_true(json_object_get(m, "status")))
			return m;
		json_decref(m);
		ck_assert_msg(tu_now() < deadline, "no message for %s in time", name);
	}
}

/* The next message for obs is the event `event` from `from` in `channel`. */
static void
expect_event(const char *obs, const char *event, const char *from, const char *channel)
{
	json_t *m = next_message(obs);
	char *text = json_dumps(m, JSON_COMPACT);
	ck_assert_msg(tu_json_str(m, "event") != NULL && strcmp(tu_json_str(m, "event"), event) == 0,
	              "%s is not a %s event", text, event);
	ck_assert_msg(strcmp(tu_json_str(m, "from"), from) == 0, "%s is not from %s", text, from);
	ck_assert_msg(strcmp(tu_json_str(m, "msg"), "") == 0, "%s: msg is not empty", text);
	ck_assert_msg(tu_json_str(m, "channel") != NULL && strcmp(tu_json_str(m, "channel"), channel) == 0,
	              "%s is not in %s", text, channel);
	ck_assert_ptr_null(json_object_get(m, "to"));
	ck_assert_int_gt(tu_json_int(m, "id"), 0);
	free(text);
	json_decref(m);
}

static void
expect_plain(const char *obs, const char *msg)
{
	json_t *m = next_message(obs);
	char *text = json_dumps(m, JSON_COMPACT);
	ck_assert_msg(strcmp(tu_json_str(m, "msg"), msg) == 0, "%s is not %s", text, msg);
	ck_assert_msg(json_object_get(m, "event") == NULL, "%s is an event", text);
	free(text);
	json_decref(m);
}

START_TEST(presence_events_join_and_leave)
{
	server = tu_server_start((const char *[]){ "--presence-events", NULL });
	get_ok("/ab_b1?name=obs&channels=ev");
	get_ok("/ab_b1?name=obs2&channels=side");
	expect_event("obs", "join", "obs", "ev");                 /* its own first poll */
	expect_event("obs2", "join", "obs2", "side");
	/* Into each of its channels. */
	int ws = wsf_connect(server.port, "/ws?name=joiner&channels=side,ev");
	expect_event("obs", "join", "joiner", "ev");
	expect_event("obs2", "join", "joiner", "side");
	double closed = tu_now();
	ws_close(ws);
	expect_event("obs", "leave", "joiner", "ev");
	ck_assert_double_lt(tu_now() - closed, tu_slack(5));
	expect_event("obs2", "leave", "joiner", "side");
	/* Once each: the next is a plain message. */
	send_msg("content=mark&channel=ev", 2);                  /* obs, joiner */
	expect_plain("obs", "mark");
	send_msg("content=mark&channel=side", 2);                /* obs2, joiner */
	expect_plain("obs2", "mark");
	/* An SSE stream the same. */
	int sse = sse_open("/events?name=sj&channels=ev");
	expect_event("obs", "join", "sj", "ev");
	closed = tu_now();
	close(sse);
	expect_event("obs", "leave", "sj", "ev");
	ck_assert_double_lt(tu_now() - closed, tu_slack(5));
	send_msg("content=mark2&channel=ev", 3);
	expect_plain("obs", "mark2");
	stop();
}
END_TEST

/* The next text frame of a WebSocket, parsed (pings answered). */
static json_t *
ws_next(int fd)
{
	for (;;) {
		ck_assert_msg(tu_wait_readable(fd, tu_slack(8)) >= 0, "no frame in time");
		uint8_t *p;
		size_t len;
		int op = wsf_read(fd, &p, &len);
		if (op == 0x9) {
			wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0xA, .payload = p, .len = len,
			                           .mask = { 1, 2, 3, 4 } });
			free(p);
			continue;
		}
		ck_assert_msg(op == 0x1, "a frame of opcode %d, not text", op);
		json_t *j = json_loadb((const char *)p, len, 0, NULL);
		ck_assert_msg(j != NULL, "a frame that is not JSON: %s", p);
		free(p);
		return j;
	}
}

static void
ws_expect_event(int fd, const char *event, const char *from, const char *channel)
{
	json_t *m = ws_next(fd);
	char *text = json_dumps(m, JSON_COMPACT);
	ck_assert_msg(tu_json_str(m, "event") != NULL && strcmp(tu_json_str(m, "event"), event) == 0 &&
	              strcmp(tu_json_str(m, "from"), from) == 0 &&
	              strcmp(tu_json_str(m, "msg"), "") == 0 &&
	              tu_json_str(m, "channel") != NULL && strcmp(tu_json_str(m, "channel"), channel) == 0,
	              "%s is not a %s event from %s in %s", text, event, from, channel);
	free(text);
	json_decref(m);
}

/* A poll goes offline --poll-timeout after its last answer: then, once,
 * its leave. */
START_TEST(presence_events_for_a_poll)
{
	server = tu_server_start((const char *[]){ "--presence-events", "--poll-timeout", "1", NULL });
	int obs = wsf_connect(server.port, "/ws?name=obs&channels=ev");
	ws_expect_event(obs, "join", "obs", "ev");
	get_ok("/ab_b1?name=p&channels=ev,other");
	double asked = tu_now();
	json_t *j = tu_get_json(server.port, "/get_msg?name=p&timeout=0");
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	ws_expect_event(obs, "join", "p", "ev");
	ws_expect_event(obs, "leave", "p", "ev");
	double left = tu_now() - asked;
	ck_assert_msg(left >= 0.95 && left < tu_slack(5), "the leave came %.2f s after the poll", left);
	send_msg("content=mark&channel=ev", 2);                  /* obs, p */
	json_t *m = ws_next(obs);
	ck_assert_str_eq(tu_json_str(m, "msg"), "mark");
	ck_assert_ptr_null(json_object_get(m, "event"));
	json_decref(m);
	ws_close(obs);
	stop();
}
END_TEST

/* Without --presence-events, nobody is told. */
START_TEST(no_presence_events_by_default)
{
	server = tu_server_start(NULL);
	get_ok("/ab_b1?name=obs&channels=ev");
	int ws = wsf_connect(server.port, "/ws?name=joiner&channels=ev");
	ws_close(ws);
	ck_assert_presence_becomes("ev", "", tu_slack(5));
	send_msg("content=mark&channel=ev", 2);
	expect_plain("obs", "mark");
	json_t *m = tu_get_json(server.port, "/get_msg?name=obs&timeout=0");
	ck_assert(json_is_false(json_object_get(m, "status")));
	json_decref(m);
	stop();
}
END_TEST

TCase *
presence_tcase(void)
{
	TCase *tc = tcase_create("presence");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, presence_lists_who_is_online);
	tcase_add_test(tc, presence_lists_a_name_once);
	tcase_add_test(tc, presence_poll_lasts_poll_timeout);
	tcase_add_test(tc, presence_truncates_at_1000);
	tcase_add_test(tc, presence_events_join_and_leave);
	tcase_add_test(tc, presence_events_for_a_poll);
	tcase_add_test(tc, no_presence_events_by_default);
	return tc;
}
