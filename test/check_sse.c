/*
 * check_sse.c - integration: Server-Sent Events (/events) and resume
 * (?since=, Last-Event-ID) on /get_msg, /ws and /events, against a real
 * build/pushq; and Python's standard library as an independent SSE client.
 */
#define _GNU_SOURCE /* memmem */

#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <dirent.h>
#include <pthread.h>
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
	/* Quiet again after an event: the next heartbeat comes as before. */
	t0 = tu_now();
	stream_block(s, block, sizeof(block), tu_slack(3));
	ck_assert_str_eq(block, ": keep-alive\n\n");
	ck_assert_double_lt(tu_now() - t0, tu_slack(2));
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

/* A resume that reaches past the history on /events: the opening comment
 * and the first event say how many are gone, exactly as on /get_msg. */
START_TEST(sse_resume_counts_missed_exactly)
{
	server = tu_server_start((const char *[]){ "--history", "3", "--queue-size", "2", NULL });
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=m", NULL);
	tu_response_free(&r);
	send_numbered(1, 10);                /* queue 1 2 (8 dropped); history 8 9 10 */
	stream *s = stream_open("/events?name=m&since=0", NULL,
	                        "retry: 2000\n: pushq stream for m; 5 missed before it\n\n");
	char json[4096];
	ck_assert_int_eq(stream_event_id(s, json, sizeof(json)), 1);
	ck_assert_ptr_nonnull(strstr(json, "\"missed\":5,\"dropped\":0}"));
	const long rest[] = { 2, 8, 9, 10 };
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
		ck_assert_int_eq(stream_event_id(s, json, sizeof(json)), rest[i]);
		ck_assert_ptr_nonnull(strstr(json, "\"dropped\":0}"));
		ck_assert_ptr_null(strstr(json, "missed"));
	}
	stream_close(s);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Who writes the events (server/push/outbox.h)                        */
/* ------------------------------------------------------------------ */

/* The server's thread count. */
static long
server_threads(void)
{
	return tu_proc_status(server.pid, 0, "Threads");
}

/* The ids of the server's threads (/proc/PID/task) into ids; how many. */
static size_t
server_tasks(long *ids, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)server.pid);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && n < cap)
			ids[n++] = strtol(e->d_name, NULL, 10);
	closedir(d);
	return n;
}

/* The threads in `after` that are not in `before`, into fresh; how many. */
static size_t
new_tasks(const long *before, size_t n_before, const long *after, size_t n_after, long *fresh)
{
	size_t n = 0;
	for (size_t i = 0; i < n_after; i++) {
		bool old = false;
		for (size_t k = 0; k < n_before; k++)
			old = old || after[i] == before[k];
		if (!old)
			fresh[n++] = after[i];
	}
	return n;
}

/* How often server thread tid has gone to sleep (voluntary switches). */
static long
task_sleeps(long tid)
{
	return tu_proc_status(server.pid, tid, "voluntary_ctxt_switches");
}

/* One chat event: its id, its "dropped", and the tag its msg begins with
 * ("TAG-i-..."). */
typedef struct {
	long id, dropped;
	char tag[32];
} chat_event;

static chat_event
read_chat_event(stream *s)
{
	char block[8192];
	stream_block(s, block, sizeof(block), tu_slack(10));
	chat_event e = { 0 };
	ck_assert_msg(strncmp(block, "id: ", 4) == 0 && tu_chat_fields(block, &e.id, &e.dropped, e.tag),
	              "not a chat event: %.200s", block);
	return e;
}

static void *
post_200(void *tag)
{
	tu_post_messages(server.port, tag, 200, 0);
	return NULL;
}

/*
 * Two senders at once, three streams: every stream gets all 400 messages,
 * ids strictly increasing, written by the senders' threads -- no thread is
 * added, and the streams' own threads sleep through them (no wake-up per
 * event).
 */
START_TEST(sse_senders_write_the_events)
{
	enum { READERS = 3 };
	server = tu_server_start(NULL);
	long base = server_threads(), before[64], after[64], streams[8];
	size_t n_before = server_tasks(before, 64);
	stream *readers[READERS];
	for (int i = 0; i < READERS; i++) {
		char target[32];
		snprintf(target, sizeof(target), "/events?name=reader%d", i);
		readers[i] = stream_open(target, NULL, NULL);
	}
	tu_expect_threads(server.pid, base + READERS);
	size_t n_after = server_tasks(after, 64);
	ck_assert_uint_eq(new_tasks(before, n_before, after, n_after, streams), READERS);
	long slept[READERS];
	for (int i = 0; i < READERS; i++)
		slept[i] = task_sleeps(streams[i]);

	pthread_t senders[2];
	pthread_create(&senders[0], NULL, post_200, "a");
	pthread_create(&senders[1], NULL, post_200, "b");
	for (int i = 0; i < READERS; i++) {
		long last = 0, a = 0, b = 0;
		for (int k = 0; k < 400; k++) {
			chat_event e = read_chat_event(readers[i]);
			ck_assert_int_gt(e.id, last);        /* in order, never twice */
			ck_assert_int_eq(e.dropped, 0);
			last = e.id;
			a += strcmp(e.tag, "a") == 0;
			b += strcmp(e.tag, "b") == 0;
		}
		ck_assert_int_eq(a, 200);
		ck_assert_int_eq(b, 200);
	}
	pthread_join(senders[0], NULL);
	pthread_join(senders[1], NULL);
	tu_expect_threads(server.pid, base + READERS);       /* no writer thread was started */
	/* A stream's thread woken per event would have slept 400 times more. */
	for (int i = 0; i < READERS; i++)
		ck_assert_int_lt(task_sleeps(streams[i]) - slept[i], 10);
	for (int i = 0; i < READERS; i++)
		stream_close(readers[i]);
	stop();
}
END_TEST

/* The slow client's reader, run beside the test: reads until "final". */
typedef struct {
	stream *s;
	long events, dropped, last_id;
	bool in_order;
} slow_reader;

static void *
read_until_final(void *arg)
{
	slow_reader *sr = arg;
	for (;;) {
		chat_event e = read_chat_event(sr->s);
		sr->in_order = sr->in_order && e.id > sr->last_id;
		sr->last_id = e.id;
		sr->events++;
		sr->dropped += e.dropped;
		if (strcmp(e.tag, "final") == 0)
			return NULL;
	}
}

static bool
slow_queue_empty(void *arg)
{
	(void)arg;
	return tu_client_stat(server.port, "slow", "queue") == 0;
}

/*
 * A stream that stops reading while messages keep coming: the senders hand
 * its socket to one writer thread and are answered at once, another stream
 * gets every message, its queue stays bounded and counts drops.  When it
 * reads again it gets the rest, in order, and events + drops = sent; then
 * the senders write its events themselves again (the writer sleeps).
 */
START_TEST(sse_backpressure_hands_over_to_the_writer)
{
	enum { FLOOD = 2000, PAD = 4000, QUEUE = 20, AGAIN = 20 };
	server = tu_server_start((const char *[]){ "--queue-size", "20", NULL });
	long base = server_threads(), before[64], after[64], writer;
	/* Not reading fills the kernel's buffers (a few MB on loopback) long
	 * before 2,000 messages of 4 KB. */
	stream *slow = stream_open("/events?name=slow", NULL, NULL);
	stream *fast = stream_open("/events?name=fast", NULL, NULL);
	tu_expect_threads(server.pid, base + 2);
	size_t n_before = server_tasks(before, 64);

	double t0 = tu_now();
	int fd = tu_connect(server.port);
	for (int i = 0; i < FLOOD; i++) {
		tu_post_numbered(fd, "flood", i, PAD);
		chat_event e = read_chat_event(fast);   /* the other stream keeps up */
		ck_assert_int_eq(e.id, i + 1);
		ck_assert_int_eq(e.dropped, 0);
	}
	close(fd);
	/* 2,000 sends with one deaf client took no longer than without it. */
	ck_assert_double_lt(tu_now() - t0, tu_slack(5.0));
	tu_expect_threads(server.pid, base + 3);             /* two streams and one writer */
	size_t n_after = server_tasks(after, 64);
	ck_assert_uint_eq(new_tasks(before, n_before, after, n_after, &writer), 1);
	ck_assert_int_le(tu_client_stat(server.port, "slow", "queue"), QUEUE);
	long drops = tu_client_stat(server.port, "slow", "dropped");
	ck_assert_int_gt(drops, 0);

	/* It reads again: everything still held arrives, then "final". */
	slow_reader sr = { .s = slow, .in_order = true };
	pthread_t reader;
	pthread_create(&reader, NULL, read_until_final, &sr);
	ck_assert(tu_wait_until(slow_queue_empty, NULL, tu_slack(10)));
	send_msg("final");
	pthread_join(reader, NULL);
	ck_assert(sr.in_order);
	ck_assert_int_eq(sr.last_id, FLOOD + 1);
	ck_assert_int_eq(sr.events + sr.dropped, FLOOD + 1);      /* nothing unaccounted */
	ck_assert_int_eq(sr.dropped, tu_client_stat(server.port, "slow", "dropped"));
	ck_assert_int_eq(read_chat_event(fast).id, FLOOD + 1);

	/* Drained: the senders write again, the writer sleeps through it. */
	long writer_slept = task_sleeps(writer);
	fd = tu_connect(server.port);
	for (int i = 0; i < AGAIN; i++) {
		tu_post_numbered(fd, "again", i, 0);
		chat_event e = read_chat_event(slow);
		ck_assert_int_eq(e.id, FLOOD + 2 + i);
		ck_assert_int_eq(e.dropped, 0);
		ck_assert_int_eq(read_chat_event(fast).id, FLOOD + 2 + i);
	}
	close(fd);
	ck_assert_int_le(task_sleeps(writer) - writer_slept, 2);
	stream_close(slow);
	stream_close(fast);
	tu_expect_threads(server.pid, base);                 /* the writer ended with its stream */
	stop();
}
END_TEST

/* "open":1 in /stats: only the asking connection is left. */
static bool
only_one_open(void *arg)
{
	(void)arg;
	json_t *stats = tu_get_json(server.port, "/stats");
	bool one = stats != NULL && tu_json_int(stats, "connections.open") == 1;
	json_decref(stats);
	return one;
}

/* A reset stream (SO_LINGER 0: the next write fails). */
static void
reset(stream *s)
{
	struct linger rst = { 1, 0 };
	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	stream_close(s);
}

/*
 * A peer gone between events: what could not be written stays in the
 * client's queue, and the same name gets every message by long poll.
 */
START_TEST(sse_failed_write_gives_the_message_back)
{
	server = tu_server_start(NULL);
	stream *s = stream_open("/events?name=gone", NULL, NULL);
	send_msg("first");
	ck_assert_int_eq(stream_event_id(s, NULL, 0), 1);
	reset(s);
	tu_post_messages(server.port, "after", 20, 0);
	for (long id = 2; id <= 21; id++) {
		tu_response r = tu_request(server.port, "GET", "/get_msg?name=gone&timeout=5", NULL);
		ck_assert_int_eq(r.status, 200);
		char want[160];
		snprintf(want, sizeof(want), "\"id\":%ld,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}", id);
		tu_strip_sent_at(r.body);
		ck_assert_msg(strstr(r.body, want) != NULL, "%s lacks %s", r.body, want);
		tu_response_free(&r);
	}
	ck_assert(tu_wait_until(only_one_open, NULL, tu_slack(5)));
	stop();
}
END_TEST

/*
 * A peer gone in the middle of an event (its socket full, the writer
 * holding the rest of one): the stream and its writer end cleanly (no
 * leak under asan), the queue keeps what was not taken, in order, and
 * the others are served throughout.
 */
START_TEST(sse_peer_gone_mid_event)
{
	enum { FLOOD = 2000, PAD = 4000 };
	server = tu_server_start((const char *[]){ "--queue-size", "50", NULL });
	long base = server_threads();
	stream *gone = stream_open("/events?name=gone", NULL, NULL);
	stream *fast = stream_open("/events?name=fast", NULL, NULL);
	int fd = tu_connect(server.port);
	for (int i = 0; i < FLOOD; i++) {
		tu_post_numbered(fd, "flood", i, PAD);
		ck_assert_int_eq(read_chat_event(fast).id, i + 1);
	}
	tu_expect_threads(server.pid, base + 4);             /* two streams, a writer, the sender */
	reset(gone);
	tu_expect_threads(server.pid, base + 2);             /* the stream and its writer ended */
	/* What the queue held comes by long poll, in order (a bounded queue:
	 * at most its size, and the one given back). */
	long last = 0, held = 0;
	for (;;) {
		tu_response r = tu_request(server.port, "GET", "/get_msg?name=gone&timeout=0", NULL);
		ck_assert_int_eq(r.status, 200);
		char *id = strstr(r.body, "\"id\":");
		long got = id != NULL ? strtol(id + 5, NULL, 10) : 0;
		tu_response_free(&r);
		if (got == 0)
			break;
		ck_assert_int_gt(got, last);
		last = got;
		held++;
	}
	ck_assert_int_ge(held, 1);
	ck_assert_int_le(held, 51);
	/* And everyone is still served: the next message reaches both. */
	tu_post_numbered(fd, "after", 0, 0);
	close(fd);
	ck_assert_int_eq(read_chat_event(fast).id, FLOOD + 1);
	tu_response r = tu_request(server.port, "GET", "/get_msg?name=gone&timeout=5", NULL);
	char want[64];
	snprintf(want, sizeof(want), "\"id\":%d,", FLOOD + 1);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s lacks %s", r.body, want);
	tu_response_free(&r);
	stream_close(fast);
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
	tcase_add_test(tc, sse_resume_counts_missed_exactly);
	suite_add_tcase(s, tc);
	TCase *push = tcase_create("push");
	tcase_set_timeout(push, 60);
	tcase_add_test(push, sse_senders_write_the_events);
	tcase_add_test(push, sse_backpressure_hands_over_to_the_writer);
	tcase_add_test(push, sse_failed_write_gives_the_message_back);
	tcase_add_test(push, sse_peer_gone_mid_event);
	suite_add_tcase(s, push);
	return s;
}
