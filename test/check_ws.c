/*
 * check_ws.c - the WebSocket handshake and frame codec, without a network.
 */
#include "http/ws.h"
#include "suites.h"
#include "wsframe.h"

#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE 100000

static ws_decoder *dec;

static void
setup(void)
{
	dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_ptr_nonnull(dec);
}

static void
teardown(void)
{
	ws_decoder_free(dec);
}

/* ------------------------------------------------------------ handshake */

START_TEST(accept_keys)
{
	char accept[29];
	ck_assert(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept));   /* RFC 6455 1.3 */
	ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ck_assert(ws_accept_key("ePW8kp1XqLNWbJxE/Q38SA==", accept));   /* the seed's */
	ck_assert_str_eq(accept, "/omufkIwUr5olvUHgRK/bbU6OdE=");
}
END_TEST

/* Parses a request head and runs the handshake check on it. */
static int
check_handshake(const char *head, char accept[29])
{
	http_parser *p = http_parser_new(0);
	size_t used;
	ck_assert_int_eq(http_parser_feed(p, head, strlen(head), &used), HTTP_DONE);
	int status = ws_handshake_check(http_parser_request(p), accept);
	http_parser_free(p);
	return status;
}

#define UPGRADE(method, conn, version, key) \
	method " /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: " conn \
	"\r\nSec-WebSocket-Version: " version "\r\n" key "\r\n"

START_TEST(handshake_checks)
{
	char accept[29];
	ck_assert_int_eq(check_handshake(UPGRADE("GET", "keep-alive, Upgrade", "13",
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), accept), 0);
	ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ck_assert_int_eq(check_handshake(UPGRADE("POST", "upgrade", "13",
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), accept), 405);
	ck_assert_int_eq(check_handshake(UPGRADE("GET", "keep-alive", "13",
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), accept), 426);
	ck_assert_int_eq(check_handshake(UPGRADE("GET", "upgrade", "8",
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), accept), 426);
	ck_assert_int_eq(check_handshake(UPGRADE("GET", "upgrade", "13", ""), accept), 400);
	ck_assert_int_eq(check_handshake(UPGRADE("GET", "upgrade", "13",
	                 "Sec-WebSocket-Key: c2hvcnQ=\r\n"), accept), 400);          /* 5 bytes */
	ck_assert_int_eq(check_handshake(UPGRADE("GET", "upgrade", "13",
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!Q==\r\n"), accept), 400);
	ck_assert_int_eq(check_handshake("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", accept), 426);
}
END_TEST

/* --------------------------------------------------------------- encoder */

START_TEST(server_frame_lengths)
{
	uint8_t h[WS_FRAME_HEADER_MAX];
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_TEXT, 0), 2);
	ck_assert_uint_eq(h[0], 0x81);
	ck_assert_uint_eq(h[1], 0);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_BINARY, 125), 2);
	ck_assert_uint_eq(h[0], 0x82);
	ck_assert_uint_eq(h[1], 125);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_TEXT, 126), 4);
	ck_assert_uint_eq(h[1], 126);
	ck_assert_uint_eq(h[2], 0);
	ck_assert_uint_eq(h[3], 126);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_TEXT, 65535), 4);
	ck_assert_uint_eq(h[2], 0xff);
	ck_assert_uint_eq(h[3], 0xff);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_TEXT, 65536), 10);
	ck_assert_uint_eq(h[1], 127);
	const uint8_t len64[8] = { 0, 0, 0, 0, 0, 1, 0, 0 };
	ck_assert_mem_eq(h + 2, len64, 8);
	http_buf b = { 0 };
	ws_close_frame_append(&b, 1001);
	ck_assert_mem_eq(b.data, "\x88\x02\x03\xe9", 4);
	http_buf_free(&b);
}
END_TEST

/* --------------------------------------------------------------- decoder */

/* Feeds a whole stream; returns the first event that is not NEED_MORE. */
static ws_result
feed_all(const uint8_t *data, size_t len, size_t *used_out, ws_event *ev)
{
	size_t used;
	ws_result r = ws_decoder_feed(dec, data, len, &used, ev);
	if (used_out)
		*used_out = used;
	return r;
}

static ws_result
one_frame(const wsf_frame *f, ws_event *ev)
{
	uint8_t *buf = malloc(f->len + WSF_HEADER_MAX);
	size_t n = wsf_encode(buf, f);
	ws_result r = feed_all(buf, n, NULL, ev);
	free(buf);
	return r;
}

START_TEST(every_length_form)
{
	const size_t lengths[] = { 0, 1, 125, 126, 127, 65535, 65536, 99999 };
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		size_t n = lengths[i];
		uint8_t *payload = malloc(n + 1);
		for (size_t k = 0; k < n; k++)
			payload[k] = (uint8_t)(k * 7);
		ws_event ev;
		wsf_frame f = { .fin = true, .opcode = WS_OP_BINARY, .payload = payload, .len = n,
		                .mask = { 0x12, 0x34, 0x56, 0x78 } };
		ck_assert_int_eq(one_frame(&f, &ev), WS_MESSAGE);
		ck_assert_int_eq(ev.opcode, WS_OP_BINARY);
		ck_assert_uint_eq(ev.len, n);
		if (n > 0)
			ck_assert_mem_eq(ev.data, payload, n);
		free(payload);
	}
}
END_TEST

/* A stream of several frames, fed split at every byte and byte by byte. */
START_TEST(split_anywhere)
{
	uint8_t stream[512];
	size_t n = 0;
	/* "héllo" as a text message in two fragments cut inside 'é', with a
	 * ping between them, then a pong and a masked close. */
	n += wsf_encode(stream + n, &(wsf_frame){ .fin = false, .opcode = WS_OP_TEXT,
	                 .payload = (const uint8_t *)"h\xc3", .len = 2, .mask = { 1, 2, 3, 4 } });
	n += wsf_encode(stream + n, &(wsf_frame){ .fin = true, .opcode = WS_OP_PING,
	                 .payload = (const uint8_t *)"p!", .len = 2, .mask = { 9, 8, 7, 6 } });
	n += wsf_encode(stream + n, &(wsf_frame){ .fin = true, .opcode = WS_OP_CONTINUATION,
	                 .payload = (const uint8_t *)"\xa9llo", .len = 4, .mask = { 5, 5, 5, 5 } });
	n += wsf_encode(stream + n, &(wsf_frame){ .fin = true, .opcode = WS_OP_PONG, .len = 0 });
	n += wsf_encode(stream + n, &(wsf_frame){ .fin = true, .opcode = WS_OP_CLOSE,
	                 .payload = (const uint8_t *)"\x03\xe8" "bye", .len = 5, .mask = { 1, 1, 1, 1 } });
	const ws_result expected[] = { WS_PING, WS_MESSAGE, WS_PONG, WS_CLOSE };

	for (size_t step = 0; step <= n; step++) {
		ws_decoder_free(dec);
		dec = ws_decoder_new(MAX_MESSAGE);
		size_t off = 0, seen = 0;
		/* step 0: byte by byte; otherwise two pieces cut at `step`. */
		while (off < n && seen < 4) {
			size_t piece = step == 0 ? 1 : (off < step ? step - off : n - off);
			size_t used;
			ws_event ev;
			ws_result r = ws_decoder_feed(dec, stream + off, piece, &used, &ev);
			off += used;
			if (r == WS_NEED_MORE)
				continue;
			ck_assert_int_eq(r, expected[seen]);
			if (r == WS_PING) {
				ck_assert_uint_eq(ev.len, 2);
				ck_assert_mem_eq(ev.data, "p!", 2);
			} else if (r == WS_MESSAGE) {
				ck_assert_int_eq(ev.opcode, WS_OP_TEXT);
				ck_assert_uint_eq(ev.len, 6);
				ck_assert_mem_eq(ev.data, "h\xc3\xa9llo", 6);
			} else if (r == WS_CLOSE) {
				ck_assert_int_eq(ev.peer_code, 1000);
				ck_assert_int_eq(ev.close_code, 1000);
			}
			seen++;
		}
		ck_assert_uint_eq(seen, 4);
		ck_assert_uint_eq(off, n);
	}
}
END_TEST

/* The close code a single frame makes the decoder fail with (0: no fail). */
static int
fail_code(const wsf_frame *f)
{
	ws_event ev;
	ws_result r = one_frame(f, &ev);
	return r == WS_FAIL ? ev.close_code : 0;
}

START_TEST(rejections)
{
	uint8_t big[200] = { 0 };
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_TEXT, .unmasked = true }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_TEXT, .rsv = 4 }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = 0x3 }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = 0xB }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_PING,
	                                         .payload = big, .len = 126 }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = false, .opcode = WS_OP_PING }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_CONTINUATION }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_CLOSE,
	                                         .payload = big, .len = 1 }), 1002);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_TEXT,
	                 .payload = (const uint8_t *)"\xff", .len = 1 }), 1007);
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_TEXT,
	                 .payload = (const uint8_t *)"ok\xe4\xbd", .len = 4 }), 1007);  /* cut short */
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(fail_code(&(wsf_frame){ .fin = true, .opcode = WS_OP_TEXT,
	                 .payload = (const uint8_t *)"\xed\xa0\x80", .len = 3 }), 1007);  /* surrogate */

	/* A length of 2^63 and more: the top bit must be zero. */
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	const uint8_t huge[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
	ws_event ev;
	ck_assert_int_eq(feed_all(huge, sizeof(huge), NULL, &ev), WS_FAIL);
	ck_assert_int_eq(ev.close_code, 1002);
	/* Too big for max_message: 1009, before any payload arrives. */
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	const uint8_t too_big[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x86, 0xa1, 1, 2, 3, 4 };
	ck_assert_int_eq(feed_all(too_big, sizeof(too_big), NULL, &ev), WS_FAIL);
	ck_assert_int_eq(ev.close_code, 1009);
	/* After a failure, nothing more is read. */
	size_t used = 99;
	ck_assert_int_eq(feed_all(too_big, sizeof(too_big), &used, &ev), WS_NEED_MORE);
	ck_assert_uint_eq(used, 0);
}
END_TEST

START_TEST(fragments_add_up_past_limit)
{
	uint8_t *chunk = calloc(1, 60000);
	ws_event ev;
	ck_assert_int_eq(one_frame(&(wsf_frame){ .fin = false, .opcode = WS_OP_BINARY,
	                                         .payload = chunk, .len = 60000 }, &ev), WS_NEED_MORE);
	ck_assert_int_eq(one_frame(&(wsf_frame){ .fin = true, .opcode = WS_OP_CONTINUATION,
	                                         .payload = chunk, .len = 60000 }, &ev), WS_FAIL);
	ck_assert_int_eq(ev.close_code, 1009);
	free(chunk);
	/* A new data frame inside an unfinished message. */
	ws_decoder_free(dec); dec = ws_decoder_new(MAX_MESSAGE);
	ck_assert_int_eq(one_frame(&(wsf_frame){ .fin = false, .opcode = WS_OP_TEXT }, &ev), WS_NEED_MORE);
	ck_assert_int_eq(one_frame(&(wsf_frame){ .fin = true, .opcode = WS_OP_TEXT }, &ev), WS_FAIL);
	ck_assert_int_eq(ev.close_code, 1002);
}
END_TEST

START_TEST(close_codes)
{
	struct { const char *payload; size_t len; ws_result r; int code; } cases[] = {
		{ "", 0, WS_CLOSE, 1000 },              /* no code: answer 1000 */
		{ "\x03\xe8", 2, WS_CLOSE, 1000 },
		{ "\x03\xe9" "going", 7, WS_CLOSE, 1001 },
		{ "\x0f\xa0", 2, WS_CLOSE, 4000 },       /* private use */
		{ "\x03\xed", 2, WS_FAIL, 1002 },        /* 1005 may not be sent */
		{ "\x03\xee", 2, WS_FAIL, 1002 },        /* 1006 neither */
		{ "\x03\xe7", 2, WS_FAIL, 1002 },        /* 999 */
		{ "\x13\x88", 2, WS_FAIL, 1002 },        /* 5000 */
		{ "\x03\xe8\xff", 3, WS_FAIL, 1007 },    /* reason not UTF-8 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ws_decoder_free(dec);
		dec = ws_decoder_new(MAX_MESSAGE);
		ws_event ev;
		ws_result r = one_frame(&(wsf_frame){ .fin = true, .opcode = WS_OP_CLOSE,
		                         .payload = (const uint8_t *)cases[i].payload,
		                         .len = cases[i].len, .mask = { 7, 7, 7, 7 } }, &ev);
		ck_assert_msg(r == cases[i].r && ev.close_code == cases[i].code,
		              "case %zu: result %d code %d", i, r, ev.close_code);
	}
	ck_assert(ws_close_code_valid(1011));
	ck_assert(!ws_close_code_valid(1015));
	ck_assert(!ws_close_code_valid(2999));
}
END_TEST

Suite *
ws_suite(void)
{
	Suite *s = suite_create("ws");
	TCase *hs = tcase_create("handshake");
	tcase_add_test(hs, accept_keys);
	tcase_add_test(hs, handshake_checks);
	tcase_add_test(hs, server_frame_lengths);
	suite_add_tcase(s, hs);

	TCase *codec = tcase_create("decoder");
	tcase_add_checked_fixture(codec, setup, teardown);
	tcase_set_timeout(codec, 30);
	tcase_add_test(codec, every_length_form);
	tcase_add_test(codec, split_anywhere);
	tcase_add_test(codec, rejections);
	tcase_add_test(codec, fragments_add_up_past_limit);
	tcase_add_test(codec, close_codes);
	suite_add_tcase(s, codec);
	return s;
}
