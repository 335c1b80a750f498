/*
 * check_http.c - the HTTP parser and writer, without a network.
 *
 * Every well-formed request is also fed split in two at every byte
 * boundary, and one byte at a time: the parser must give the same answer
 * however the bytes arrive.
 */
#include "http/http.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY 1024

static http_parser *parser;

static void
setup(void)
{
	parser = http_parser_new(MAX_BODY);
	ck_assert_ptr_nonnull(parser);
}

static void
teardown(void)
{
	http_parser_free(parser);
}

/* Feeds raw in pieces of `step` bytes (0: all at once); returns the result
 * and the bytes used in total. */
static http_parse_result
feed_in_steps(const char *raw, size_t len, size_t step, size_t *used_total)
{
	http_parser_reset(parser);
	size_t off = 0;
	http_parse_result r = HTTP_NEED_MORE;
	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		size_t used = 0;
		r = http_parser_feed(parser, raw + off, n, &used);
		ck_assert_uint_le(used, n);
		off += used;
		if (r != HTTP_NEED_MORE)
			break;
		ck_assert_uint_eq(used, n);     /* NEED_MORE always uses everything */
	}
	*used_total = off;
	return r;
}

/* Feeds raw split at `split` into two pieces. */
static http_parse_result
feed_split(const char *raw, size_t len, size_t split, size_t *used_total)
{
	http_parser_reset(parser);
	size_t used = 0;
	http_parse_result r = http_parser_feed(parser, raw, split, &used);
	*used_total = used;
	if (r != HTTP_NEED_MORE)
		return r;
	r = http_parser_feed(parser, raw + split, len - split, &used);
	*used_total += used;
	return r;
}

/* Parses raw whole; then split at every boundary and byte by byte, each
 * time expecting the same result, the same bytes used and the same body. */
static const http_request *
parse_every_way(const char *raw, http_parse_result expect)
{
	size_t len = strlen(raw), used_whole;
	ck_assert_int_eq(feed_in_steps(raw, len, 0, &used_whole), expect);
	char *body = NULL;
	size_t body_len = 0;
	int status = http_parser_error_status(parser);
	if (expect == HTTP_DONE) {
		body_len = http_parser_request(parser)->body_len;
		body = malloc(body_len + 1);
		memcpy(body, http_parser_request(parser)->body, body_len);
	}
	for (size_t split = 0; split <= len; split++) {
		size_t used;
		ck_assert_int_eq(feed_split(raw, len, split, &used), expect);
		if (expect == HTTP_DONE) {
			ck_assert_uint_eq(used, used_whole);
			ck_assert_uint_eq(http_parser_request(parser)->body_len, body_len);
			ck_assert_mem_eq(http_parser_request(parser)->body, body, body_len);
		} else {
			ck_assert_int_eq(http_parser_error_status(parser), status);
		}
	}
	size_t used;
	ck_assert_int_eq(feed_in_steps(raw, len, 1, &used), expect);
	free(body);
	return http_parser_request(parser);
}

/* The status the parser fails with for raw (fed whole and byte by byte). */
static int
error_status(const char *raw, size_t len)
{
	size_t used;
	ck_assert_int_eq(feed_in_steps(raw, len, 1, &used), HTTP_ERROR);
	int by_byte = http_parser_error_status(parser);
	ck_assert_int_eq(feed_in_steps(raw, len, 0, &used), HTTP_ERROR);
	ck_assert_int_eq(http_parser_error_status(parser), by_byte);
	return by_byte;
}

#define ERROR_STATUS(literal) error_status(literal, sizeof(literal) - 1)

/* ------------------------------------------------------------ requests */

START_TEST(simple_get)
{
	const http_request *req = parse_every_way(
		"GET /get_msg?name=tony&timeout=0 HTTP/1.1\r\nHost: x\r\n"
		"User-Agent:  curl/8  \r\n\r\n", HTTP_DONE);
	ck_assert_int_eq(req->method, HTTP_GET);
	ck_assert_str_eq(req->method_name, "GET");
	ck_assert_str_eq(req->target, "/get_msg?name=tony&timeout=0");
	ck_assert_uint_eq(req->path_len, 8);
	ck_assert_str_eq(req->query, "name=tony&timeout=0");
	ck_assert_int_eq(req->minor_version, 1);
	ck_assert_int_eq(req->header_count, 2);
	ck_assert_str_eq(http_header(req, "user-agent"), "curl/8");
	ck_assert_ptr_null(http_header(req, "Cookie"));
	ck_assert(req->keep_alive);
	ck_assert_uint_eq(req->body_len, 0);
	ck_assert_str_eq(req->body, "");
}
END_TEST

START_TEST(keep_alive_rules)
{
	const http_request *req = parse_every_way("GET / HTTP/1.0\r\n\r\n", HTTP_DONE);
	ck_assert(!req->keep_alive);
	req = parse_every_way("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_DONE);
	ck_assert(req->keep_alive);
	req = parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", HTTP_DONE);
	ck_assert(!req->keep_alive);
	req = parse_every_way("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_DONE);
	ck_assert(req->keep_alive);
	ck_assert_int_eq(req->method, HTTP_HEAD);
}
END_TEST

START_TEST(upgrade_detection)
{
	const http_request *req = parse_every_way(
		"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
		"Upgrade: WebSocket\r\n\r\n", HTTP_DONE);
	ck_assert(req->connection_upgrade);
	ck_assert(req->upgrade_websocket);
	req = parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgraded\r\n\r\n", HTTP_DONE);
	ck_assert(!req->connection_upgrade);
	ck_assert(http_has_token(" a , b,c ", "b"));
	ck_assert(!http_has_token("ab", "a"));
}
END_TEST

START_TEST(content_length_body)
{
	const http_request *req = parse_every_way(
		"POST /send_msg HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n"
		"Content-Length: 13\r\n\r\ncontent=hello", HTTP_DONE);
	ck_assert_int_eq(req->method, HTTP_POST);
	ck_assert_uint_eq(req->body_len, 13);
	ck_assert_str_eq(req->body, "content=hello");
}
END_TEST

START_TEST(chunked_body)
{
	const http_request *req = parse_every_way(
		"POST /send_msg HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		"8\r\ncontent=\r\n5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\n"
		"X-Trailer: yes\r\n\r\n", HTTP_DONE);
	ck_assert_uint_eq(req->body_len, 23);
	ck_assert_str_eq(req->body, "content=hello0123456789");
	req = parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
	                      "0\r\n\r\n", HTTP_DONE);
	ck_assert_uint_eq(req->body_len, 0);
}
END_TEST

START_TEST(pipelined_requests)
{
	const char raw[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	                   "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
	                   "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *paths[] = { "/a", "/b", "/c" };
	size_t off = 0, len = sizeof(raw) - 1;
	for (int i = 0; i < 3; i++) {
		http_parser_reset(parser);
		size_t used;
		ck_assert_int_eq(http_parser_feed(parser, raw + off, len - off, &used), HTTP_DONE);
		const http_request *req = http_parser_request(parser);
		ck_assert_str_eq(req->target, paths[i]);
		off += used;
	}
	ck_assert_uint_eq(off, len);
	/* After DONE, feeding again without a reset uses nothing. */
	size_t used = 99;
	ck_assert_int_eq(http_parser_feed(parser, "GET", 3, &used), HTTP_DONE);
	ck_assert_uint_eq(used, 0);
}
END_TEST

START_TEST(expect_continue)
{
	const char head[] = "POST /send_msg HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
	                    "Content-Length: 9\r\n\r\n";
	size_t used;
	ck_assert(!http_parser_take_continue(parser));
	ck_assert_int_eq(http_parser_feed(parser, head, sizeof(head) - 1, &used), HTTP_NEED_MORE);
	ck_assert(http_parser_take_continue(parser));
	ck_assert(!http_parser_take_continue(parser));     /* once only */
	ck_assert_int_eq(http_parser_feed(parser, "content=x", 9, &used), HTTP_DONE);
	ck_assert_str_eq(http_parser_request(parser)->body, "content=x");
	http_parser_reset(parser);
	const char plain[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n";
	ck_assert_int_eq(http_parser_feed(parser, plain, sizeof(plain) - 1, &used), HTTP_NEED_MORE);
	ck_assert(!http_parser_take_continue(parser));
}
END_TEST

START_TEST(leading_blank_lines_ignored)
{
	const http_request *req = parse_every_way("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_DONE);
	ck_assert_str_eq(req->target, "/");
}
END_TEST

START_TEST(other_methods_parse)
{
	const http_request *req = parse_every_way("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_DONE);
	ck_assert_int_eq(req->method, HTTP_OTHER);
	ck_assert_str_eq(req->method_name, "DELETE");
}
END_TEST

/* -------------------------------------------------------------- errors */

START_TEST(malformed_is_400)
{
	ck_assert_int_eq(ERROR_STATUS("\x16\x03\x01garbage\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET noslash HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\n\r\n"), 400);              /* no Host */
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400); /* space before : */
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n"), 400);  /* bare LF */
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nHost: x\rA: b\r\n\r\n"), 400);  /* bare CR */
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nHost: \x01\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTX/1.1\r\nHost: x\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
	ck_assert_int_eq(error_status("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n", 31), 400);
}
END_TEST

START_TEST(framing_errors)
{
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\n"
	                              "Content-Length: 99999999999999999999999\r\n\r\n"), 413);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"), 413);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	                              "Content-Length: 2\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	                              "Transfer-Encoding: chunked\r\n\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.1\r\nHost: x\r\n"
	                              "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501);
	ck_assert_int_eq(ERROR_STATUS("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}
END_TEST

#define CHUNKED_HEAD "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

START_TEST(chunk_errors)
{
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "zz\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "-5\r\n"), 400);
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "3\nabc"), 400);
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "3\r\nabcX\r\n"), 400);   /* no CRLF after data */
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "ffffffffffffffffffff\r\n"), 413);
	ck_assert_int_eq(ERROR_STATUS(CHUNKED_HEAD "401\r\n"), 413);         /* 1025 > max */
	/* Many chunks that add up past max_body. */
	char raw[8192] = CHUNKED_HEAD;
	for (int i = 0; i < 120; i++)
		strcat(raw, "a\r\n0123456789\r\n");
	ck_assert_int_eq(error_status(raw, strlen(raw)), 413);
	/* A chunk-size line that never ends. */
	char line[512] = CHUNKED_HEAD "1";
	memset(line + strlen(line), '0', 200);
	ck_assert_int_eq(error_status(line, strlen(line)), 400);
}
END_TEST

START_TEST(limits)
{
	/* A header line of 100 KiB. */
	size_t big = 100 * 1024;
	char *raw = malloc(big + 100);
	strcpy(raw, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	size_t n = strlen(raw);
	memset(raw + n, 'a', big);
	strcpy(raw + n + big, "\r\n\r\n");
	ck_assert_int_eq(error_status(raw, strlen(raw)), 431);

	/* A target of 9,000 bytes, and a request line of 100 KiB with no end. */
	strcpy(raw, "GET /");
	memset(raw + 5, 'a', 9000);
	strcpy(raw + 9005, " HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(error_status(raw, strlen(raw)), 414);
	memset(raw + 5, 'a', big);
	ck_assert_int_eq(error_status(raw, big), 414);
	free(raw);

	/* 10,000 headers: over the count (and the size). */
	size_t cap = 10000 * 8 + 64;
	raw = malloc(cap);
	char *end = raw + sprintf(raw, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 10000; i++)
		end += sprintf(end, "A: b\r\n");
	strcpy(end, "\r\n");
	ck_assert_int_eq(error_status(raw, strlen(raw)), 431);
	/* 65 small headers: over the count alone. */
	strcpy(raw, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		strcat(raw, "A: b\r\n");
	strcat(raw, "\r\n");
	ck_assert_int_eq(error_status(raw, strlen(raw)), 431);
	free(raw);
}
END_TEST

START_TEST(errors_are_sticky)
{
	ck_assert_int_eq(ERROR_STATUS("BAD\r\n\r\n"), 400);
	size_t used = 99;
	ck_assert_int_eq(http_parser_feed(parser, "GET / HTTP/1.1\r\n", 16, &used), HTTP_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert(http_parser_started(parser));
	http_parser_reset(parser);
	ck_assert(!http_parser_started(parser));
}
END_TEST

/* ------------------------------------------------------------ decoding */

START_TEST(form_values)
{
	char out[64];
	const char *form = "content=hello+world%21%e4%bd%a0&name=tony&empty=&flag";
	size_t len = strlen(form);
	ck_assert_int_eq(http_form_value(form, len, "content", out, sizeof(out)), 15);
	ck_assert_str_eq(out, "hello world!\xe4\xbd\xa0");
	ck_assert_int_eq(http_form_value(form, len, "name", out, sizeof(out)), 4);
	ck_assert_str_eq(out, "tony");
	ck_assert_int_eq(http_form_value(form, len, "empty", out, sizeof(out)), 0);
	ck_assert_int_eq(http_form_value(form, len, "flag", out, sizeof(out)), 0);
	ck_assert_int_eq(http_form_value(form, len, "missing", out, sizeof(out)), -1);
	ck_assert_int_eq(http_form_value(form, len, "nam", out, sizeof(out)), -1);
	ck_assert_int_eq(http_form_value("a=%zz", 5, "a", out, sizeof(out)), -2);
	ck_assert_int_eq(http_form_value("a=%4", 4, "a", out, sizeof(out)), -2);
	ck_assert_int_eq(http_form_value("a=%", 3, "a", out, sizeof(out)), -2);
	ck_assert_int_eq(http_form_value("a=toolong", 9, "a", out, 4), -2);
	ck_assert_int_eq(http_form_value("a=%00", 5, "a", out, sizeof(out)), 1);  /* a NUL byte */
}
END_TEST

START_TEST(path_decoding)
{
	char out[64];
	ck_assert_int_eq(http_path_decode("/a%20b+c", 8, out, sizeof(out)), 6);
	ck_assert_str_eq(out, "/a b+c");
	ck_assert_int_eq(http_path_decode("/%2e%2E/x", 9, out, sizeof(out)), 5);
	ck_assert_str_eq(out, "/../x");
	ck_assert_int_eq(http_path_decode("/a%00", 5, out, sizeof(out)), -1);
	ck_assert_int_eq(http_path_decode("/%zz", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(http_path_decode("/abc", 4, out, 3), -1);
	/* A raw NUL is refused like an encoded one (found by make fuzz). */
	ck_assert_int_eq(http_path_decode("/a\0b", 4, out, sizeof(out)), -1);
}
END_TEST

/* -------------------------------------------------------------- output */

static void
expect_json(const char *in, size_t len, const char *expected)
{
	http_buf b = { 0 };
	http_buf_json_string(&b, in, len);
	ck_assert_str_eq(b.data, expected);
	http_buf_free(&b);
}

/* The one UTF-8 validator (http.h), whole and a byte at a time. */
START_TEST(sse_events)
{
	http_buf b = { 0 };
	/* One data line per line, whatever ends it (LF, CR, CRLF). */
	http_sse_event_append(&b, "7", "a\nb\r\nc\rd", 8);
	ck_assert_str_eq(b.data, "id: 7\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
	b.len = 0;
	/* A trailing line break is an empty last line: the browser keeps it. */
	http_sse_event_append(&b, NULL, "x\n", 2);
	ck_assert_str_eq(b.data, "data: x\ndata: \n\n");
	b.len = 0;
	http_sse_event_append(&b, "1", "", 0);
	ck_assert_str_eq(b.data, "id: 1\ndata: \n\n");
	b.len = 0;
	http_sse_comment_append(&b, "keep-alive");
	ck_assert_str_eq(b.data, ": keep-alive\n\n");
	http_buf_free(&b);

	uint64_t id;
	ck_assert(http_parse_event_id("0", &id) && id == 0);
	ck_assert(http_parse_event_id("18446744073709551615", &id) && id == UINT64_MAX);
	ck_assert(!http_parse_event_id("18446744073709551616", &id));   /* 2^64 */
	ck_assert(!http_parse_event_id("", &id));
	ck_assert(!http_parse_event_id("-1", &id));
	ck_assert(!http_parse_event_id("+1", &id));
	ck_assert(!http_parse_event_id("1 ", &id));
	ck_assert(!http_parse_event_id("0x10", &id));
}
END_TEST

START_TEST(utf8_validator)
{
	static const struct { const char *bytes; bool valid; } cases[] = {
		{ "", true }, { "plain", true }, { "\xc2\xa9", true }, { "\xe2\x82\xac", true },
		{ "\xf0\x9f\x98\x80", true }, { "\xf4\x8f\xbf\xbf", true },
		{ "\xc0\xaf", false },          /* overlong '/' */
		{ "\xe0\x80\xaf", false },      /* overlong, 3 bytes */
		{ "\xed\xa0\x80", false },      /* a surrogate */
		{ "\xf4\x90\x80\x80", false },  /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", false }, { "\x80", false }, { "\xff", false },
		{ "\xe2\x82", false },          /* cut short */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *b = cases[i].bytes;
		ck_assert_msg(http_utf8_valid(b, strlen(b)) == cases[i].valid, "case %zu", i);
		http_utf8_state st;
		http_utf8_init(&st);
		bool ok = true;
		for (size_t j = 0; ok && b[j] != '\0'; j++)
			ok = http_utf8_step(&st, (uint8_t)b[j]);
		ck_assert_int_eq(ok && st.need == 0, cases[i].valid);
	}
}
END_TEST

START_TEST(json_strings)
{
	expect_json("", 0, "\"\"");
	expect_json("say \"hi\" \\ bye", 14, "\"say \\\"hi\\\" \\\\ bye\"");
	expect_json("a\nb\tc\rd\x01\x1f", 9, "\"a\\nb\\tc\\rd\\u0001\\u001f\"");
	expect_json("nul\0x", 5, "\"nul\\u0000x\"");
	expect_json("\xe4\xbd\xa0\xf0\x9f\x98\x80", 7, "\"\xe4\xbd\xa0\xf0\x9f\x98\x80\"");  /* 你😀 */
	expect_json("<script>", 8, "\"<script>\"");
	expect_json("\xff", 1, "\"\\ufffd\"");
	expect_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");           /* overlong '/' */
	expect_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");   /* a surrogate */
	expect_json("ok\xe4\xbd", 4, "\"ok\\ufffd\\ufffd\"");          /* truncated */
	expect_json("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  /* > U+10FFFF */
}
END_TEST

START_TEST(response_head)
{
	http_buf b = { 0 };
	char date[32];
	http_date(784111777, date);
	ck_assert_str_eq(date, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_response_head(&b, 405, date, "text/plain", 12, false, "Allow: POST\r\n");
	ck_assert_str_eq(b.data, "HTTP/1.1 405 Method Not Allowed\r\nServer: pushq\r\n"
	                         "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	                         "Content-Type: text/plain\r\nContent-Length: 12\r\n"
	                         "Connection: close\r\nAllow: POST\r\n\r\n");
	http_buf_free(&b);
	http_buf_printf(&b, "%d-%s", 7, "x");
	http_buf_append(&b, "yz", 2);
	ck_assert_str_eq(b.data, "7-xyz");
	http_buf_free(&b);
	ck_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(http_reason(299), "Unknown");
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *parse = tcase_create("parse");
	tcase_add_checked_fixture(parse, setup, teardown);
	tcase_set_timeout(parse, 30);
	tcase_add_test(parse, simple_get);
	tcase_add_test(parse, keep_alive_rules);
	tcase_add_test(parse, upgrade_detection);
	tcase_add_test(parse, content_length_body);
	tcase_add_test(parse, chunked_body);
	tcase_add_test(parse, pipelined_requests);
	tcase_add_test(parse, expect_continue);
	tcase_add_test(parse, leading_blank_lines_ignored);
	tcase_add_test(parse, other_methods_parse);
	tcase_add_test(parse, malformed_is_400);
	tcase_add_test(parse, framing_errors);
	tcase_add_test(parse, chunk_errors);
	tcase_add_test(parse, limits);
	tcase_add_test(parse, errors_are_sticky);
	suite_add_tcase(s, parse);

	TCase *codec = tcase_create("codec");
	tcase_add_test(codec, form_values);
	tcase_add_test(codec, path_decoding);
	tcase_add_test(codec, json_strings);
	tcase_add_test(codec, utf8_validator);
	tcase_add_test(codec, response_head);
	tcase_add_test(codec, sse_events);
	suite_add_tcase(s, codec);
	return s;
}
