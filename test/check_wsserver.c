/*
 * check_wsserver.c - integration: WebSocket against a real build/pushq,
 * with our own test client (wsframe.c) and with python3-websockets.
 */
#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static tu_server server;

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}

/* Reads one frame and checks its opcode and payload. */
static void
expect_frame(int fd, int opcode, const void *payload, size_t len)
{
	uint8_t *got;
	size_t got_len;
	ck_assert_int_eq(wsf_read(fd, &got, &got_len), opcode);
	ck_assert_uint_eq(got_len, len);
	if (len > 0)
		ck_assert_mem_eq(got, payload, len);
	free(got);
}

/* The server closed with `code` and then closed the TCP connection. */
static void
expect_close(int fd, int code)
{
	ck_assert_int_eq(wsf_read_close_code(fd), code);
	char byte;
	ck_assert_int_le(recv(fd, &byte, 1, 0), 0);
	close(fd);
}

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

START_TEST(echo_every_size)
{
	server = tu_server_start((const char *[]){ "--max-body", "2097152", NULL });
	int fd = wsf_connect(server.port, "/ws/echo");
	const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, 1 << 20 };
	char *data = malloc(1 << 20);
	for (size_t i = 0; i < (size_t)1 << 20; i++)
		data[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		wsf_send_message(fd, 0x1, data, sizes[i]);
		expect_frame(fd, 0x1, data, sizes[i]);
		wsf_send_message(fd, 0x2, data, sizes[i]);
		expect_frame(fd, 0x2, data, sizes[i]);
	}
	free(data);
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0x8,
	                           .payload = (const uint8_t *)"\x03\xe8", .len = 2 });
	expect_close(fd, 1000);
	stop();
}
END_TEST

START_TEST(fragments_and_pings)
{
	server = tu_server_start(NULL);
	int fd = wsf_connect(server.port, "/ws/echo");
	wsf_send(fd, &(wsf_frame){ .fin = false, .opcode = 0x1, .payload = (const uint8_t *)"frag", .len = 4 });
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0x9, .payload = (const uint8_t *)"are you", .len = 7 });
	wsf_send(fd, &(wsf_frame){ .fin = false, .opcode = 0x0, .payload = (const uint8_t *)"men", .len = 3 });
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0x0, .payload = (const uint8_t *)"t\xc3\xa9", .len = 3 });
	expect_frame(fd, 0xA, "are you", 7);              /* pong between fragments */
	expect_frame(fd, 0x1, "fragment\xc3\xa9", 10);
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0x8 });   /* close, no code */
	expect_close(fd, 1000);
	stop();
}
END_TEST

/* Each bad stream ends its own connection with the right code. */
static void
expect_bad_stream(const wsf_frame *f, int code)
{
	int fd = wsf_connect(server.port, "/ws/echo");
	wsf_send(fd, f);
	expect_close(fd, code);
}

START_TEST(bad_streams_close_with_their_code)
{
	server = tu_server_start((const char *[]){ "--max-body", "1000", NULL });
	uint8_t big[2000] = { 0 };
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x1, .payload = (const uint8_t *)"\xc3(", .len = 2 }, 1007);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x1, .unmasked = true, .payload = big, .len = 3 }, 1002);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x9, .payload = big, .len = 126 }, 1002);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x0, .payload = big, .len = 1 }, 1002);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x8, .payload = big, .len = 1 }, 1002);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x2, .rsv = 1 }, 1002);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x5 }, 1002);
	expect_bad_stream(&(wsf_frame){ .fin = true, .opcode = 0x2, .payload = big, .len = 1001 }, 1009);
	/* A 64-bit length of 2^63. */
	int fd = wsf_connect(server.port, "/ws/echo");
	tu_send(fd, "\x82\xff\x80\0\0\0\0\0\0\0\1\2\3\4", 14);
	expect_close(fd, 1002);
	/* A truncated frame, then the peer vanishes: nothing is left behind. */
	fd = wsf_connect(server.port, "/ws/echo");
	tu_send(fd, "\x81\x85\1\2", 4);
	close(fd);
	ck_assert(tu_wait_until(only_one_open, NULL, 5));
	/* And everyone else is still served. */
	fd = wsf_connect(server.port, "/ws/echo");
	wsf_send_message(fd, 0x1, "still here", 10);
	expect_frame(fd, 0x1, "still here", 10);
	close(fd);
	stop();
}
END_TEST

START_TEST(handshake_errors)
{
	server = tu_server_start(NULL);
	int fd = tu_connect(server.port);
	tu_send_str(fd, "GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
	                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
	tu_response r = tu_read_response(fd, 0);
	char version[16];
	ck_assert_int_eq(r.status, 426);
	ck_assert(tu_header(&r, "Sec-WebSocket-Version", version, sizeof(version)));
	ck_assert_str_eq(version, "13");
	tu_response_free(&r);
	tu_send_str(fd, "GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
	r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 400);                   /* no key */
	tu_response_free(&r);
	tu_send_str(fd, "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
	r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 400);                   /* chat without a name */
	tu_response_free(&r);
	close(fd);
	r = tu_request(server.port, "GET", "/ws/echo", NULL);
	ck_assert_int_eq(r.status, 426);                   /* plain GET */
	tu_response_free(&r);
	r = tu_request(server.port, "POST", "/ws/echo", "");
	ck_assert_int_eq(r.status, 405);
	tu_response_free(&r);
	/* The lab's helper: the server's accept value for a key. */
	r = tu_request(server.port, "GET", "/ws/accept?key=dGhlIHNhbXBsZSBub25jZQ%3D%3D", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"key\":\"dGhlIHNhbXBsZSBub25jZQ==\",\"guid\":"
	                         "\"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\","
	                         "\"accept\":\"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\"}");
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/ws/accept?key=short", NULL);
	ck_assert_int_eq(r.status, 400);
	tu_response_free(&r);
	stop();
}
END_TEST

/* A text frame from the chat: checks it holds `msg` from `from`. */
static void
expect_chat_message(int fd, const char *json_part)
{
	uint8_t *p;
	size_t len;
	ck_assert_int_eq(wsf_read(fd, &p, &len), 0x1);
	tu_strip_sent_at((char *)p);
	ck_assert_msg(strstr((char *)p, json_part) != NULL, "%s lacks %s", p, json_part);
	free(p);
}

START_TEST(chat_crosses_transports)
{
	server = tu_server_start(NULL);
	int ws = wsf_connect(server.port, "/ws?name=webby");
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=polly", NULL);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);

	/* long poll -> WebSocket */
	r = tu_request(server.port, "POST", "/send_msg", "content=hi+webby&name=polly");
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
	expect_chat_message(ws, "{\"status\":true,\"msg\":\"hi webby\",\"id\":1,\"from\":\"polly\",\"channel\":\"room\",\"dropped\":0}");

	/* WebSocket -> long poll (and back to itself: everyone gets it) */
	wsf_send_message(ws, 0x1, "hi polly \xe4\xbd\xa0", 12);
	expect_chat_message(ws, "\"msg\":\"hi polly 你\",\"id\":2,\"from\":\"webby\"");
	r = tu_request(server.port, "GET", "/get_msg?name=polly&timeout=0", NULL);
	tu_strip_sent_at(r.body);
	ck_assert_str_eq(r.body, "{\"status\":true,\"msg\":\"hi webby\",\"id\":1,\"from\":\"polly\",\"channel\":\"room\",\"dropped\":0}");
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/get_msg?name=polly&timeout=5", NULL);
	tu_strip_sent_at(r.body);
	ck_assert_str_eq(r.body, "{\"status\":true,\"msg\":\"hi polly 你\",\"id\":2,\"from\":\"webby\",\"channel\":\"room\",\"dropped\":0}");
	tu_response_free(&r);
	json_t *stats = tu_get_json(server.port, "/stats");
	ck_assert_ptr_nonnull(stats);
	ck_assert_str_eq(json_string_value(json_object_get(tu_stats_client(stats, "webby"), "kind")), "ws");
	json_decref(stats);

	/* Binary is not chat: 1003. */
	wsf_send_message(ws, 0x2, "\x00", 1);
	expect_close(ws, 1003);
	ck_assert(tu_wait_until(only_one_open, NULL, 5));
	stop();
}
END_TEST

START_TEST(idle_peer_is_pinged_then_dropped)
{
	server = tu_server_start((const char *[]){ "--poll-timeout", "0.3", NULL });
	int fd = wsf_connect(server.port, "/ws?name=sleepy");
	uint8_t *p;
	size_t len;
	double t0 = tu_now();
	ck_assert_int_eq(wsf_read(fd, &p, &len), 0x9);     /* a ping */
	free(p);
	ck_assert_double_lt(tu_now() - t0, tu_slack(3.0));
	/* Answer it: the connection lives on and gets the next ping. */
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0xA, .payload = (const uint8_t *)"pushq", .len = 5 });
	ck_assert_int_eq(wsf_read(fd, &p, &len), 0x9);
	free(p);
	/* Do not answer: dropped (a plain TCP close) about an interval later. */
	ck_assert_int_eq(wsf_read(fd, &p, &len), -1);
	ck_assert_double_lt(tu_now() - t0, tu_slack(5.0));
	close(fd);
	stop();
}
END_TEST

START_TEST(shutdown_closes_with_1001)
{
	server = tu_server_start(NULL);
	int chat = wsf_connect(server.port, "/ws?name=bye");
	int echo = wsf_connect(server.port, "/ws/echo");
	wsf_send_message(echo, 0x1, "x", 1);
	expect_frame(echo, 0x1, "x", 1);            /* both sessions are running */
	kill(server.pid, SIGTERM);
	ck_assert_int_eq(wsf_read_close_code(chat), 1001);
	ck_assert_int_eq(wsf_read_close_code(echo), 1001);
	close(chat);
	close(echo);
	ck_assert_int_eq(tu_server_stop(&server, 2.0), 0);
}
END_TEST

/* python3-websockets, a client nobody here wrote, against /ws/echo and /ws. */
START_TEST(interop_python_websockets)
{
	server = tu_server_start((const char *[]){ "--max-body", "2097152", NULL });
	int status = tu_run_python("test/ws_interop.py", server.port);
	ck_assert_msg(status == 0, "test/ws_interop.py failed (exit %d); is python3-websockets installed?",
	              status);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* How broadcasts reach WebSocket clients (ws_session.c's DESIGN)      */
/* ------------------------------------------------------------------ */

/* The server's thread count (the test started it). */
static long
server_threads(void)
{
	return tu_proc_status(server.pid, 0, "Threads");
}

/* The server comes to have n threads. */
static void
expect_threads(long n)
{
	tu_expect_threads(server.pid, n);
}

/* A number in the /stats entry of client `name` (-1 if none). */
static long
client_stat(const char *name, const char *key)
{
	return (long)tu_client_stat(server.port, name, key);
}

/* A chat frame's "id" and "dropped"; fails the test on anything else. */
typedef struct {
	long id, dropped;
	char msg[32];
} chat_frame;

static chat_frame
read_chat_frame(int fd)
{
	uint8_t *p;
	size_t len;
	ck_assert_int_eq(wsf_read(fd, &p, &len), 0x1);
	chat_frame f = { 0 };
	ck_assert_msg(tu_chat_fields((char *)p, &f.id, &f.dropped, f.msg), "not a chat frame: %s", p);
	free(p);
	return f;
}

static void *
post_messages_thread(void *tag)
{
	tu_post_messages(server.port, tag, 200, 0);
	return NULL;
}

/* Two senders at once, three readers: every reader gets all 400 messages,
 * in id order, written by the senders' threads (no thread is added). */
START_TEST(broadcasts_write_frames_themselves)
{
	server = tu_server_start(NULL);
	long threads = server_threads() + 3;     /* one per WebSocket, no more */
	int readers[3];
	for (int i = 0; i < 3; i++) {
		char target[32];
		snprintf(target, sizeof(target), "/ws?name=reader%d", i);
		readers[i] = wsf_connect(server.port, target);
	}
	expect_threads(threads);
	pthread_t senders[2];
	pthread_create(&senders[0], NULL, post_messages_thread, "a");
	pthread_create(&senders[1], NULL, post_messages_thread, "b");
	for (int i = 0; i < 3; i++) {
		long last = 0, a = 0, b = 0;
		for (int k = 0; k < 400; k++) {
			chat_frame f = read_chat_frame(readers[i]);
			ck_assert_int_gt(f.id, last);        /* in order, never twice */
			ck_assert_int_eq(f.dropped, 0);
			last = f.id;
			a += strcmp(f.msg, "a") == 0;
			b += strcmp(f.msg, "b") == 0;
		}
		ck_assert_int_eq(a, 200);
		ck_assert_int_eq(b, 200);
	}
	pthread_join(senders[0], NULL);
	pthread_join(senders[1], NULL);
	/* No writer thread was started: the senders wrote every frame. */
	expect_threads(threads);
	for (int i = 0; i < 3; i++)
		close(readers[i]);
	stop();
}
END_TEST

/* The slow client's reader, run beside the test: reads until "final". */
typedef struct {
	int fd;
	long frames, dropped, last_id;
	bool in_order;
} slow_reader;

static void *
read_until_final(void *arg)
{
	slow_reader *sr = arg;
	for (;;) {
		chat_frame f = read_chat_frame(sr->fd);
		sr->in_order = sr->in_order && f.id > sr->last_id;
		sr->last_id = f.id;
		sr->frames++;
		sr->dropped += f.dropped;
		if (strcmp(f.msg, "final") == 0)
			return NULL;
	}
}

static bool
slow_queue_empty(void *arg)
{
	(void)arg;
	return client_stat("slow", "queue") == 0;
}

/*
 * A client that stops reading while messages keep coming: the senders hand
 * its socket to one writer thread, are answered at once, another client
 * gets every message; its queue stays bounded and counts drops.  When it
 * reads again it gets the rest, in order, and frames + drops = sent.
 */
START_TEST(backpressure_hands_over_to_the_writer)
{
	enum { FLOOD = 2000, PAD = 4000, QUEUE = 20 };
	server = tu_server_start((const char *[]){ "--queue-size", "20", NULL });
	long one_more = server_threads() + 3;    /* two sessions and one writer */
	/* Not reading fills the kernel's buffers (about 4 MB on loopback) long
	 * before 2,000 messages of 4 KB. */
	int slow = wsf_connect(server.port, "/ws?name=slow");
	int fast = wsf_connect(server.port, "/ws?name=fast");

	double t0 = tu_now();
	int fd = tu_connect(server.port);
	for (int i = 0; i < FLOOD; i++) {
		tu_post_numbered(fd, "flood", i, PAD);
		chat_frame f = read_chat_frame(fast);   /* the other client keeps up */
		ck_assert_int_eq(f.id, i + 1);
		ck_assert_int_eq(f.dropped, 0);
	}
	close(fd);
	/* 2,000 sends with one deaf client took no longer than without it. */
	ck_assert_double_lt(tu_now() - t0, tu_slack(5.0));
	expect_threads(one_more);
	ck_assert_int_le(client_stat("slow", "queue"), QUEUE);
	long drops = client_stat("slow", "dropped");
	ck_assert_int_gt(drops, 0);

	/* It reads again: everything still held arrives, then "final". */
	slow_reader sr = { .fd = slow, .in_order = true };
	pthread_t reader;
	pthread_create(&reader, NULL, read_until_final, &sr);
	ck_assert(tu_wait_until(slow_queue_empty, NULL, tu_slack(10)));
	tu_response r = tu_request(server.port, "POST", "/send_msg", "content=final");
	tu_response_free(&r);
	pthread_join(reader, NULL);
	ck_assert(sr.in_order);
	ck_assert_int_eq(sr.last_id, FLOOD + 1);
	ck_assert_int_eq(sr.frames + sr.dropped, FLOOD + 1);      /* nothing unaccounted */
	ck_assert_int_eq(sr.dropped, client_stat("slow", "dropped"));
	ck_assert_int_eq(read_chat_frame(fast).id, FLOOD + 1);
	close(slow);
	close(fast);
	stop();
}
END_TEST

/* A socket reset under the sender: what it could not write stays in the
 * client's queue, and the same name gets every message by long poll. */
START_TEST(failed_write_gives_the_message_back)
{
	server = tu_server_start(NULL);
	int ws = wsf_connect(server.port, "/ws?name=gone");
	tu_response r = tu_request(server.port, "POST", "/send_msg", "content=first");
	tu_response_free(&r);
	ck_assert_int_eq(read_chat_frame(ws).id, 1);
	struct linger reset = { 1, 0 };
	setsockopt(ws, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(ws);                                  /* RST: the next send fails */
	tu_post_messages(server.port, "after", 20, 0);
	for (long id = 2; id <= 21; id++) {
		r = tu_request(server.port, "GET", "/get_msg?name=gone&timeout=5", NULL);
		ck_assert_int_eq(r.status, 200);
		char want[160];
		snprintf(want, sizeof(want), "\"id\":%ld,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}", id);
		tu_strip_sent_at(r.body);
		ck_assert_msg(strstr(r.body, want) != NULL, "%s lacks %s", r.body, want);
		tu_response_free(&r);
	}
	stop();
}
END_TEST

Suite *
wsserver_suite(void)
{
	Suite *s = suite_create("wsserver");
	TCase *tc = tcase_create("websocket");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, echo_every_size);
	tcase_add_test(tc, fragments_and_pings);
	tcase_add_test(tc, bad_streams_close_with_their_code);
	tcase_add_test(tc, handshake_errors);
	tcase_add_test(tc, chat_crosses_transports);
	tcase_add_test(tc, idle_peer_is_pinged_then_dropped);
	tcase_add_test(tc, shutdown_closes_with_1001);
	tcase_add_test(tc, interop_python_websockets);
	suite_add_tcase(s, tc);
	TCase *push = tcase_create("push");
	tcase_set_timeout(push, 60);
	tcase_add_test(push, broadcasts_write_frames_themselves);
	tcase_add_test(push, backpressure_hands_over_to_the_writer);
	tcase_add_test(push, failed_write_gives_the_message_back);
	suite_add_tcase(s, push);
	return s;
}
