/*
 * fuzz_parser.c - the HTTP request parser (http/parser.c).  The input is a
 * stream of pipelined requests.  It is parsed twice: fed whole, and fed in
 * pieces cut at points taken from the input.  An incremental parser must
 * see the same requests either way; the summaries of both runs must match
 * byte for byte.  ASan and UBSan watch every byte it touches.
 */
#include "http/http.h"
#include "fuzz_common.h"

#include <stdio.h>
#include <string.h>

#define MAX_BODY 4096

/* Appends what a finished request (or an error) looks like to the summary. */
static void
summarize(http_buf *out, http_parser *p, http_parse_result r)
{
	if (r == HTTP_ERROR) {
		http_buf_printf(out, "E%d;", http_parser_error_status(p));
		return;
	}
	const http_request *req = http_parser_request(p);
	FUZZ_REQUIRE(req->body_len <= MAX_BODY);
	FUZZ_REQUIRE(strlen(req->target) >= req->path_len);
	http_buf_printf(out, "R%s %s %d %d %d;", req->method_name, req->target,
	                req->header_count, (int)req->keep_alive, (int)req->body_len);
	for (int i = 0; i < req->header_count; i++)
		http_buf_printf(out, "%s=%s;", req->headers[i].name, req->headers[i].value);
	http_buf_append(out, req->body, req->body_len);
}

/* Parses data[len] in pieces of the sizes `next` gives; returns the summary. */
static void
parse_all(const uint8_t *data, size_t len, bool whole, http_buf *out)
{
	http_parser *p = http_parser_new(MAX_BODY);
	FUZZ_REQUIRE(p != NULL);
	uint32_t state = fuzz_seed(data, len);
	size_t at = 0;
	while (at < len) {
		size_t piece = whole ? len - at : fuzz_next_cut(&state, len - at);
		size_t end = at + piece;
		while (at < end) {
			size_t used = 0;
			http_parse_result r = http_parser_feed(p, (const char *)data + at, end - at, &used);
			FUZZ_REQUIRE(used <= end - at);
			at += used;
			if (r == HTTP_NEED_MORE) {
				FUZZ_REQUIRE(at == end);
				break;
			}
			summarize(out, p, r);
			if (r == HTTP_ERROR)
				goto done;          /* the connection would close here */
			http_parser_reset(p);
		}
	}
	http_buf_puts(out, http_parser_started(p) ? "partial" : "clean");
done:
	http_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	http_buf whole = { 0 }, pieces = { 0 };
	parse_all(data, len, true, &whole);
	parse_all(data, len, false, &pieces);
	fuzz_require_same(&whole, &pieces);
	return 0;
}
